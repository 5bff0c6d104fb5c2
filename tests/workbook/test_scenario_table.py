"""The scenario table on the Quote sheet (SPEC §6): cached values, formulas, edits, chart."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from kpixl.engine.pricing import price_contract
from kpixl.engine.scenarios import scenarios
from kpixl.model import Contract, contract_from_data
from kpixl.ratecard import load_rate_card
from kpixl.workbook import cellformulas as cf
from kpixl.workbook.build import build_workbook
from kpixl.workbook.cached import ScenarioInputs, default_scenario_inputs, scenario_values
from kpixl.workbook.evaluate import evaluate_workbook
from kpixl.workbook.layout import QUOTE, SCENARIO_ROWS, Layout, Mode
from kpixl.workbook.recalc import recalc
from kpixl.workbook.template import template_schema
from kpixl.workbook.validate import validate_workbook
from tests.conftest import EXAMPLES
from udfs import kpixl_udfs

UDFS = {name.upper(): getattr(kpixl_udfs, name) for name in kpixl_udfs.__all__}
# `kpixl scenarios workbooks/examples/acme-amz-us.yaml`: GMV target 300000 × ramp 0.6.
LEVELS = (0.0, 0.5, 0.8, 1.0, 1.2, 1.5)
BONUS = (0.0, 0.0, 11550.0, 21000.0, 27720.0, 31500.0)
TOTAL = (9000.0, 9000.0, 20550.0, 30000.0, 36720.0, 40500.0)
GMV = (0.0, 90000.0, 144000.0, 180000.0, 216000.0, 270000.0)
COLUMNS = ("base", "bonus", "total", "gmv", "fee_share", "fixed_fee", "cps_fee")


def with_quote(levels: list[float] | None, cps_rate: float | None, priced: bool = True) -> Contract:
    """The SPEC contract with a quote section; its fee as the sample rate card prices the quote
    (``priced``), else the SPEC fee (base 9000, pool 21000, cap 31500)."""
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "acme-amz-us.yaml").read_text("utf-8"))
    data["quote"] = {
        "team": {"manager": 1, "specialist": 2},
        "term_months": 12,
        "base_share": 0.35,
        "cps_rate": cps_rate,
        "levels": levels,
    }
    if priced:
        price = price_contract(load_rate_card(), contract_from_data(data, "c.yaml"))
        data["fee"] |= {"base": price.base, "pool": price.pool}
    return contract_from_data(data, "c.yaml")


def table(path: Path, layout: Layout) -> list[dict[str, Any]]:
    """The cached scenario rows of a built workbook."""
    sheet = openpyxl.load_workbook(path, data_only=True)[QUOTE]
    keys = ("level", *COLUMNS)
    return [
        {key: sheet[layout.scenario(key, i)].value for key in keys} for i in range(SCENARIO_ROWS)
    ]


@pytest.mark.parametrize("mode", ["native", "udf"])
def test_spec_example_scenarios_are_cached(
    spec_contract: Contract, tmp_path: Path, mode: Mode
) -> None:
    out = build_workbook(spec_contract, mode=mode, out=tmp_path / "q.xlsx")
    rows = table(out, Layout(spec_contract))
    assert [r["level"] for r in rows] == list(LEVELS)
    assert [r["bonus"] for r in rows] == list(BONUS)
    assert [r["total"] for r in rows] == list(TOTAL)
    assert [r["base"] for r in rows] == [9000.0] * 6
    assert [r["gmv"] for r in rows] == list(GMV)
    # Fee share is blank where GMV is 0; 20550 / 144000 at 0.8.
    assert rows[0]["fee_share"] is None
    assert rows[2]["fee_share"] == pytest.approx(20550 / 144000, abs=1e-15)
    # No quote section: fixed fee = ROUND(base + pool), no CPS rate, so no CPS column.
    assert [r["fixed_fee"] for r in rows] == [30000.0] * 6
    assert [r["cps_fee"] for r in rows] == [None] * 6
    assert validate_workbook(out) == []


def test_quote_levels_and_cps_rate_fill_the_table(tmp_path: Path) -> None:
    contract = with_quote([0.6, 1.0, 1.3], 0.08)
    inputs = default_scenario_inputs(contract)
    assert (inputs.levels, inputs.cps_rate) == ((0.6, 1.0, 1.3, None, None, None), 0.08)
    assert inputs.pricing is not None  # priced from the sample rate card (test_pricing_sheet)
    out = build_workbook(contract, out=tmp_path / "q.xlsx")
    rows = table(out, Layout(contract))
    engine = scenarios(contract)
    for row, want in zip(rows, engine, strict=False):
        assert row["total"] == want.total
        assert row["cps_fee"] == want.cps_fee
    # ROUND(0.08 × 180000 × 1.3, 2), hand-computed: 0.08 × 234000 = 18720.
    assert rows[2]["cps_fee"] == 18720.0
    assert rows[3] == dict.fromkeys(("level", *COLUMNS))
    assert validate_workbook(out) == []


def test_blank_rate_cell_means_no_cps_even_with_a_quote_rate() -> None:
    contract = with_quote(None, 0.08, priced=False)
    layout = Layout(contract)
    values = scenario_values(layout, ScenarioInputs(LEVELS, None))
    assert [values[layout.scenario("cps_fee", i)] for i in range(6)] == [""] * 6
    assert [values[layout.scenario("bonus", i)] for i in range(6)] == list(BONUS)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "udf"])
def test_formulas_give_the_engine_numbers_with_cps(tmp_path: Path, mode: Mode) -> None:
    contract = with_quote([0.0, 0.79, 0.8, 1.1, 2.5], 0.075)
    layout = Layout(contract)
    out = build_workbook(contract, mode=mode, out=tmp_path / "q.xlsx")
    evaluated = evaluate_workbook(out, UDFS)
    cached = table(out, layout)
    # With a quote section the fixed fee is the list price from the RateCard sheet.
    listed = price_contract(load_rate_card(), contract).list
    for i, want in enumerate(scenarios(contract, fixed_fee=listed)):
        for key in COLUMNS:
            got = evaluated[f"{QUOTE}!{layout.scenario(key, i)}"]
            expected = getattr(want, key)
            assert got == pytest.approx(expected, abs=1e-9) if expected else got in ("", 0.0)
            assert cached[i][key] == (None if expected is None else expected)
    assert evaluated[f"{QUOTE}!{layout.scenario('total', 5)}"] == ""


def test_edited_levels_and_rate_are_recalculated_and_validate(
    spec_contract: Contract, tmp_path: Path
) -> None:
    built = build_workbook(spec_contract, out=tmp_path / "q.xlsx")
    layout = Layout(spec_contract)
    book = openpyxl.load_workbook(built)
    book[QUOTE][layout.scenario("level", 2)] = 0.9
    book[QUOTE][layout.scenario("level", 5)] = None
    book[QUOTE][layout.cps_rate_cell] = 0.05
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    recalc(edited)
    rows = table(edited, layout)
    want = scenarios(spec_contract, [0.9], cps_rate=0.05)[0]
    assert rows[2]["total"] == want.total
    assert rows[2]["cps_fee"] == want.cps_fee == 8100.0  # ROUND(0.05 × 180000 × 0.9, 2)
    assert rows[5]["total"] is None
    codes = {i.code for i in validate_workbook(edited) if i.severity == "error"}
    assert "KX405" not in codes and "KX406" not in codes


def test_native_factor_is_the_settlement_formula_on_the_scenario_attainment(
    spec_contract: Contract,
) -> None:
    by_key = {c.key: c for c in template_schema(spec_contract).cells}
    layout = Layout(spec_contract)
    for k, kpi in enumerate(spec_contract.kpis):
        scenario = by_key[f"scenario[3].factor:{kpi.code}"]
        settlement = by_key[f"settlement[1].factor:{kpi.code}"]
        a_scenario = layout.scenario_kpi(k, "attainment", 3)
        a_settlement = layout.s(f"attainment:{kpi.code}", 1)
        assert cf.factor_native(layout, k, a_settlement) in (settlement.native or "")
        assert cf.factor_native(layout, k, a_scenario) in (scenario.native or "")
        assert cf.factor_udf(layout, k, a_scenario) in (scenario.udf or "")
    # udf mode: KPIXL_SCENARIO (the engine's scenario_fee) on the row's payouts, in KPI order.
    payouts = "+".join(layout.scenario_kpi(k, "payout", 3) for k in range(layout.k))
    for key in ("bonus", "total"):
        udf = by_key[f"scenario[3].{key}"].udf or ""
        assert f"KPIXL_SCENARIO(Quote!$B$17,{payouts}," in udf and f',"{key}")' in udf
    assert "MIN(" in (by_key["scenario[3].bonus"].native or "")
    assert "KPIXL" not in (by_key["scenario[3].total"].native or "")


def test_chart_has_stacked_fee_and_alternative_lines(
    spec_contract: Contract, tmp_path: Path
) -> None:
    out = build_workbook(spec_contract, out=tmp_path / "q.xlsx")
    with zipfile.ZipFile(out) as package:
        charts = [package.read(n).decode() for n in package.namelist() if "charts/chart" in n]
    scenario = [c for c in charts if "Fee per scenario" in c]
    assert len(scenario) == 1
    assert "<c:lineChart>" in scenario[0] and '<c:grouping val="stacked"/>' in scenario[0]
    for name in ("Base / 基础", "Bonus / 奖金", "Fixed fee / 固定费用", "CPS / 纯佣金"):
        assert name in scenario[0]
