"""Contracts parse with libyaml's C loader where there is one: same data, same error messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kpixl.errors import ContractError
from kpixl.model import _FastLoader, _load_yaml, _Loader, load_contract

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "workbooks" / "examples").glob("*.yaml")) + sorted(
    (ROOT / "kpixl" / "data" / "templates").glob("*.yaml")
)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_c_loader_reads_what_the_python_loader_reads(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    expected = yaml.load(text, _Loader)
    assert _load_yaml(text) == expected
    if _FastLoader is not None:
        assert yaml.load(text, _FastLoader) == expected


def test_dates_stay_text_and_errors_are_the_python_loaders(tmp_path: Path) -> None:
    assert _load_yaml("start: 2027-01-01\nn: 3\n") == {"start": "2027-01-01", "n": 3}
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nkpis: [a, b\nfee: 1\n", encoding="utf-8")
    with pytest.raises(yaml.YAMLError) as python_error:
        yaml.load(bad.read_text(), _Loader)
    with pytest.raises(ContractError) as error:
        load_contract(bad)
    (issue,) = error.value.issues
    assert issue.code == "KX101"
    assert issue.message == f"not valid YAML/JSON: {python_error.value}"
