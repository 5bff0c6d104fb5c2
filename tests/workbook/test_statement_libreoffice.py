"""The native Statement in LibreOffice: after a period is picked, every figure is the engine's.

Each workbook is copied once per period with the period typed into ``KPIXL_STATEMENT_PERIOD``
and the Statement's cached values zeroed (so every number checked comes from LibreOffice);
all copies go through one LibreOffice start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kpixl.actuals import Actuals, Adjustments, read_actuals
from kpixl.engine.settle import settle
from kpixl.model import Contract, load_contract
from kpixl.workbook.build import build_workbook
from kpixl.workbook.layout import STATEMENT, Layout
from kpixl.workbook.patch import patch_cached_values
from kpixl.workbook.pick import prepare_copy
from kpixl.workbook.statement import StatementLayout
from kpixl.workbook.template import template_schema
from tests.conftest import EXAMPLES
from tests.libreoffice import convert_many
from tests.workbook.contracts import case
from tests.workbook.test_statement import expected_figures, same, statement_cell

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]


def _cases() -> list[tuple[str, Contract, Actuals, Adjustments | None]]:
    spec = load_contract(EXAMPLES / "acme-amz-us.yaml")
    actuals = read_actuals(EXAMPLES / "acme-amz-us.actuals.csv")
    out: list[tuple[str, Contract, Actuals, Adjustments | None]] = [
        ("spec-period", spec, actuals, None),
        ("spec-cumulative", spec.model_copy(update={"settlement": "cumulative"}), actuals, None),
    ]
    for i in (1, 2, 3, 7):
        c = case(i)
        out.append((f"gen{i}", c.contract, c.actuals, c.adjustments))
    return out


@pytest.fixture(scope="module")
def picked(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """(case, period label) -> the copy LibreOffice recalculated with that period picked."""
    folder = tmp_path_factory.mktemp("statement-lo")
    sources: list[Path] = []
    keys: list[tuple[str, str]] = []
    for name, contract, actuals, adjustments in _cases():
        built = build_workbook(contract, actuals, adjustments, out=folder / f"{name}.xlsx")
        ref = StatementLayout(Layout(contract)).period_ref.replace("$", "")
        zeros = {
            STATEMENT: {
                spec.ref: 0
                for spec in template_schema(contract).formula_cells()
                if spec.sheet == STATEMENT
            }
        }
        for p, label in enumerate(contract.period_labels, start=1):
            picked_copy = folder / "picked" / f"{name}-p{p}.xlsx"
            picked_copy.parent.mkdir(exist_ok=True)
            prepare_copy(built, picked_copy, period=label, period_ref=ref)
            src = folder / "src" / picked_copy.name
            src.parent.mkdir(exist_ok=True)
            assert patch_cached_values(picked_copy, src, zeros).ok
            sources.append(src)
            keys.append((name, label))
    results = convert_many(sources, folder / "lo")
    return dict(zip(keys, results, strict=True))


@pytest.mark.parametrize("index", range(6))
def test_statement_in_libreoffice(picked: dict[tuple[str, str], Path], index: int) -> None:
    name, contract, actuals, adjustments = _cases()[index]
    result = settle(contract, actuals, adjustments)
    st = StatementLayout(Layout(contract))
    checked = 0
    for label in contract.period_labels:
        sheet = openpyxl.load_workbook(picked[(name, label)], data_only=True)[STATEMENT]
        for (row, col), (value, money) in expected_figures(contract, result, label).items():
            found: Any = sheet[statement_cell(st, row, col)].value
            assert same(found, value, money), (name, label, statement_cell(st, row, col), found)
            checked += 1
    assert checked > 10 * len(contract.period_labels)
