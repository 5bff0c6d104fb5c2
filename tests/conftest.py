"""Shared fixtures: the bundled examples and the shared corpus of third-party workbooks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kpixl.actuals import Actuals, read_actuals
from kpixl.model import Contract, load_contract

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "workbooks" / "examples"
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def spec_contract() -> Contract:
    """The SPEC §5 worked-example contract (period settlement)."""
    return load_contract(EXAMPLES / "acme-amz-us.yaml")


@pytest.fixture(scope="session")
def spec_actuals() -> Actuals:
    """The SPEC §5 worked-example actuals."""
    return read_actuals(EXAMPLES / "acme-amz-us.actuals.csv")


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus folder; skipped where the checkout has no ../shared beside it."""
    if not CORPUS.is_dir():
        pytest.skip(f"no shared corpus at {CORPUS}")
    return CORPUS


#: Where evaluations of workbooks are shared within one test run (see ``evaluated_once``).
EVALUATIONS: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def _evaluations_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One folder per test run, shared by the xdist workers (the parent of their own temporary
    folders, which pytest makes per run and cleans up like every temporary folder)."""
    base = tmp_path_factory.getbasetemp()
    folder = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    EVALUATIONS[:] = [folder / "evaluations"]
