"""Building the workbook: determinism, structure, text safety, reading it back."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import openpyxl

from kpixl.actuals import Actuals
from kpixl.engine.settle import settle
from kpixl.model import Contract
from kpixl.workbook.build import build_workbook
from kpixl.workbook.layout import Layout
from kpixl.workbook.read import read_workbook
from tests.workbook.contracts import case


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_build_is_deterministic(
    spec_contract: Contract, spec_actuals: Actuals, tmp_path: Path
) -> None:
    first = build_workbook(spec_contract, spec_actuals, out=tmp_path / "a.xlsx")
    second = build_workbook(spec_contract, spec_actuals, out=tmp_path / "b.xlsx")
    assert sha256(first) == sha256(second)
    with zipfile.ZipFile(first) as package:
        assert {info.date_time for info in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = package.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core


def test_structure(spec_contract: Contract, spec_actuals: Actuals, tmp_path: Path) -> None:
    out = build_workbook(spec_contract, spec_actuals, out=tmp_path / "q.xlsx")
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [
        "Quote",
        "KPIs",
        "Tiers",
        "Guardrails",
        "Actuals",
        "Settlement",
        "Statement",
        "Pacing",
        "Review",
        "RateCard",
        "_kpixl",
    ]
    assert book["_kpixl"].sheet_state == "veryHidden"
    assert book["_kpixl"]["B1"].value == "kpixl.quote-workbook"
    assert len(book["_kpixl"]["B5"].value) == 64
    assert set(book.defined_names) >= {
        "KPIXL_TOTAL_BASE",
        "KPIXL_TOTAL_BONUS",
        "KPIXL_TOTAL_FEE",
        "KPIXL_SETTLEMENT",
    }
    assert book["Settlement"].protection.sheet
    assert book["Quote"]["B4"].protection.locked is False  # an input
    assert book["Settlement"]["AE2"].protection.locked is True  # a formula
    actuals = book["Actuals"]
    assert [c.value for c in actuals[1]][:3] == ["period", "gmv", "ad_sales"]
    assert actuals["A2"].value == "2027-01" and actuals["A2"].data_type == "s"
    values = openpyxl.load_workbook(out, data_only=True)
    name = values.defined_names["KPIXL_TOTAL_FEE"]
    sheet, ref = next(iter(name.destinations))
    assert values[sheet][ref.replace("$", "")].value == 120090.49
    kinds = {dv.formula1 for dv in book["KPIs"].data_validations.dataValidation}
    assert '"higher,lower"' in kinds and '"stepped,marginal,linear"' in kinds


def test_formula_like_text_is_written_as_text(tmp_path: Path) -> None:
    c = case(5)
    assert c.contract.client.startswith("=")
    out = build_workbook(c.contract, c.actuals, out=tmp_path / "inj.xlsx")
    sheet = openpyxl.load_workbook(out)["Quote"]
    assert sheet["B4"].value == c.contract.client and sheet["B4"].data_type == "s"


def test_empty_actuals_show_blank_settlement(spec_contract: Contract, tmp_path: Path) -> None:
    out = build_workbook(spec_contract, None, out=tmp_path / "empty.xlsx")
    values = openpyxl.load_workbook(out, data_only=True)
    assert values["Settlement"]["C2"].value == 0
    sheet = values["Settlement"]
    layout = Layout(spec_contract)
    assert sheet[layout.s("bonus", 1)].value in (None, "")
    assert sheet[layout.total("total")].value == 0


def test_read_back_round_trip(
    spec_contract: Contract, spec_actuals: Actuals, tmp_path: Path
) -> None:
    for mode in ("native", "udf"):
        out = build_workbook(spec_contract, spec_actuals, mode=mode, out=tmp_path / f"{mode}.xlsx")
        contract, actuals, adjustments = read_workbook(out)
        assert contract == spec_contract.model_copy(update={"currency_decimals": 2})
        assert (
            settle(contract, actuals, adjustments).totals
            == settle(spec_contract, spec_actuals).totals
        )


def test_read_back_generated(tmp_path: Path) -> None:
    for i in range(12):
        c = case(i)
        out = build_workbook(c.contract, c.actuals, c.adjustments, out=tmp_path / f"g{i}.xlsx")
        contract, actuals, adjustments = read_workbook(out)
        expected = settle(c.contract, c.actuals, c.adjustments)
        assert settle(contract, actuals, adjustments).to_dict() == expected.to_dict()


def test_template_formulas_need_no_future_function_prefixes(spec_contract: Contract) -> None:
    # The builder skips XlsxWriter's _xlfn. rewriting: prove it would have changed nothing.
    from xlsxwriter.worksheet import Worksheet

    from kpixl.workbook.build import _TemplateSheet, formula_text
    from kpixl.workbook.template import template_schema
    from tests.workbook.contracts import case

    plain, fast = Worksheet(), _TemplateSheet()
    contracts = [spec_contract, *(case(i).contract for i in range(0, 50, 7))]
    checked = 0
    for contract in contracts:
        for spec in template_schema(contract).formula_cells():
            for mode in ("native", "udf"):
                text = "=" + formula_text(spec, mode)  # type: ignore[arg-type]
                assert fast._prepare_formula(text) == plain._prepare_formula(text), text
                checked += 1
    assert checked > 1000
