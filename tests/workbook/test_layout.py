"""The template schema: one description of sheets, names, inputs and formulas."""

from __future__ import annotations

import json
import re

from kpixl.model import Contract
from kpixl.workbook.layout import PRICING, SHEETS, Layout
from kpixl.workbook.template import template_schema
from tests.workbook.contracts import case

ALLOWED = {
    "IF",
    "AND",
    "OR",
    "NOT",
    "MIN",
    "MAX",
    "ABS",
    "INDEX",
    "MATCH",
    "SUMPRODUCT",
    "SUM",
    "COUNT",
    "COUNTA",
    "ROUND",
    "N",
    "ISNUMBER",
    "IFERROR",
    # The Statement: Excel 2000-era functions every spreadsheet application has.
    "CLEAN",
    "SMALL",
    "SUMIF",
    "ROW",
    # The Pacing sheet: the period of a typed date, and the bonus paid before it (SUMIF).
    "YEAR",
    "MONTH",
    "DATE",
    "INT",
    # The Review sheet: settled periods counted (COUNTIF) and a chart point left out (NA).
    "COUNTIF",
    "NA",
}
FUNCTION = re.compile(r"([A-Z_][A-Z0-9_.]*)\(")


def test_schema_json_round_trip(spec_contract: Contract) -> None:
    schema = template_schema(spec_contract)
    document = json.loads(schema.to_json())
    assert document["schema_id"] == "kpixl.quote-workbook"
    # No quote section, so no Pricing sheet (the working sheet of the sales pricing inputs).
    assert [s["name"] for s in document["sheets"]] == [s for s in SHEETS if s != PRICING]
    assert set(document["names"]) == {
        "KPIXL_TOTAL_BASE",
        "KPIXL_TOTAL_BONUS",
        "KPIXL_TOTAL_FEE",
        "KPIXL_SETTLEMENT",
        "KPIXL_STATEMENT_PERIOD",
        "KPIXL_STATEMENT_TOTAL",
    }
    assert document["names"]["KPIXL_TOTAL_FEE"].startswith("Settlement!$")
    refs = [(c["sheet"], c["ref"]) for c in document["cells"]]
    assert len(refs) == len(set(refs))  # one spec per cell


def test_native_formulas_use_only_portable_functions(spec_contract: Contract) -> None:
    for contract in (spec_contract, *(case(i).contract for i in range(12))):
        for spec in template_schema(contract).formula_cells():
            native = spec.native or ""
            text = re.sub(r'"[^"]*"', '""', native)
            assert set(FUNCTION.findall(text)) <= ALLOWED, (spec.key, native)
            assert "--" not in text and "[" not in text
            assert not re.search(
                r"\$?[A-Z]+:\$?[A-Z]+\b", text.replace("!", " ")
            )  # no whole columns


def test_udf_formulas_call_kpixl_functions(spec_contract: Contract) -> None:
    udf = {spec.key: spec.udf or "" for spec in template_schema(spec_contract).formula_cells()}
    assert (
        udf["settlement[1].attainment:gmv"].startswith("IF(")
        and "KPIXL_ATTAINMENT(" in udf["settlement[1].attainment:gmv"]
    )
    assert "KPIXL_FACTOR(" in udf["settlement[2].factor:roas"]
    assert "KPIXL_PAYOUT(" in udf["settlement[2].payout:tacos"]
    assert "KPIXL_CAP(" in udf["settlement[3].bonus"]
    assert "KPIXL_GUARDRAIL(" in udf["settlement[3].m"]
    assert "KPIXL_BASE(" in udf["settlement[3].base"]


def test_layout_addresses(spec_contract: Contract) -> None:
    layout = Layout(spec_contract)
    assert layout.metrics == (
        "gmv",
        "ad_sales",
        "ad_spend",
        "gross_margin",
        "return_rate",
        "person_days",
    )
    assert layout.actual("gmv", 1) == "Actuals!B2"
    assert layout.s("period", 1) == "A2"
    assert layout.total_row == 7
