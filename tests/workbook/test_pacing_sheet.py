"""The Pacing sheet, evaluated headlessly in both formula modes, equals ``kpixl pace``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kpixl.actuals import Actuals, read_actuals
from kpixl.daily import read_daily, resolve_daily
from kpixl.engine.pacing import Pacing, pace
from kpixl.engine.settle import settle
from kpixl.model import Contract, contract_from_data, load_contract
from kpixl.workbook.build import build_workbook
from kpixl.workbook.evaluate import evaluate_workbook
from kpixl.workbook.layout import Layout, Mode
from kpixl.workbook.pacing_sheet import PACING, PacingLayout
from kpixl.workbook.patch import patch_cached_values
from kpixl.workbook.recalc import recalc
from kpixl.workbook.validate import validate_workbook
from tests.conftest import EXAMPLES
from udfs import kpixl_udfs

UDFS = {name.upper(): getattr(kpixl_udfs, name) for name in kpixl_udfs.__all__}
DAILY = EXAMPLES / "daily" / "acme-amz-us.daily.csv"


def fill(path: Path, out: Path, contract: Contract, result: Pacing) -> None:
    """Type the as-of date and every column's to-date figure into the Pacing sheet."""
    at = PacingLayout(Layout(contract))
    book = openpyxl.load_workbook(path)
    sheet = book[PACING]
    sheet[at.header("as_of", absolute=False)] = dt.datetime.combine(result.as_of, dt.time())
    sheet[at.header("days_with_data", absolute=False)] = result.days_with_data
    for name, value in result.column_to_date.items():
        sheet[at.column_cell(name, "to_date").replace("$", "")] = value
    book.save(out)


def close(found: Any, expected: float | None, money: bool) -> bool:
    if expected is None:
        return found in (None, "")
    tolerance = 0.005 if money else 1e-9 * max(1.0, abs(expected))
    return isinstance(found, int | float) and abs(found - expected) <= tolerance


def check(contract: Contract, result: Pacing, values: dict[str, Any]) -> None:
    """Every Pacing figure of the sheet against the engine's (money to the cent)."""
    at = PacingLayout(Layout(contract))

    def get(ref: str) -> Any:
        return values[f"{PACING}!{ref.replace('$', '')}"]

    for key, want in (("p", result.index), ("days", result.days_in_period),
                      ("elapsed", result.days_elapsed)):  # fmt: skip
        assert get(at.header(key)) == want, key
    assert get(at.header("period")) == result.period
    for k, kpi in enumerate(result.kpis):
        for field in ("projected", "target", "attainment", "factor"):
            assert close(get(at.kpi_cell(k, field)), getattr(kpi, field), False), (kpi.code, field)
        assert close(get(at.kpi_cell(k, "payout")), kpi.payout, True), kpi.code
        step = kpi.next_step
        assert step is not None
        assert close(get(at.kpi_cell(k, "next")), step.attainment, False)
        assert close(get(at.kpi_cell(k, "needed")), step.actual, False)
        assert close(get(at.kpi_cell(k, "rest")), step.rest_of_period, False), kpi.code
        if step.per_day is not None:
            assert close(get(at.kpi_cell(k, "per_day")), step.per_day, False)
    assert close(get(at.summary("m")), result.guardrail_multiplier, False)
    for key in ("bonus", "base", "total"):
        assert close(get(at.summary(key)), getattr(result, key), True), key


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "udf"])
@pytest.mark.parametrize("as_of", [dt.date(2027, 3, 12), dt.date(2027, 3, 31)])
def test_pacing_sheet_equals_kpixl_pace(tmp_path: Path, mode: Mode, as_of: dt.date) -> None:
    contract = load_contract(EXAMPLES / "acme-amz-us.yaml")
    # A tight contract cap, so the bonus paid in January and February matters.
    contract = contract.model_copy(
        update={"fee": contract.fee.model_copy(update={"contract_cap": 40000})}
    )
    actuals = read_actuals(EXAMPLES / "acme-amz-us.actuals.csv")
    two = Actuals(actuals.source, actuals.columns, actuals.rows[:2])
    daily = resolve_daily(contract, read_daily(DAILY))
    result = pace(contract, daily, as_of, settle(contract, two))
    assert result.bonus < result.bonus_before_caps  # the cap binds
    built, typed = tmp_path / "built.xlsx", tmp_path / "typed.xlsx"
    build_workbook(contract, two, None, mode=mode, out=built)
    blank = evaluate_workbook(built, UDFS)
    at = PacingLayout(Layout(contract))
    assert blank[f"{PACING}!{at.summary('total').replace('$', '')}"] in (None, "")
    fill(built, typed, contract, result)
    check(contract, result, evaluate_workbook(typed, UDFS))


def baseline_contract() -> Contract:
    """Sum, mean, last and ratio columns; a baseline; a lower KPI; person-days; a guardrail."""
    return contract_from_data(
        {
            "id": "PACE-SHEET",
            "client": "C",
            "provider": "P",
            "currency": "USD",
            "platform": "shopify",
            "start": "2027-04-01",
            "period": "quarter",
            "periods": 2,
            "fee": {"base": 3000, "pool": 6000, "period_cap": 8000},
            "kpis": [
                {
                    "code": "orders",
                    "unit": "count",
                    "weight": 0.4,
                    "target": 9000,
                    "baseline": 3000,
                    "threshold": 0.5,
                    "curve": {
                        "mode": "marginal",
                        "tiers": [{"from": 0, "rate": 1}, {"from": 1, "rate": 1.5}],
                    },
                },
                {
                    "code": "ship",
                    "unit": "days",
                    "direction": "lower",
                    "weight": 0.2,
                    "target": 3,
                    "attainment_cap": 1.3,
                },
                {
                    "code": "rating",
                    "unit": "score",
                    "aggregate": "last",
                    "weight": 0.2,
                    "target": 4.8,
                },
                {
                    "code": "cvr",
                    "unit": "percent",
                    "weight": 0.2,
                    "target": 0.03,
                    "ratio": ["buyers", "visits"],
                },
            ],
            "guardrails": [
                {
                    "metric": "refunds",
                    "op": "<=",
                    "bound": 0.1,
                    "effect": "multiplier",
                    "multiplier": 0.5,
                }
            ],
            "min_input": {"person_days": 60},
        },  # fmt: skip
        "pace.yaml",
    )


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "udf"])
def test_every_column_kind_and_kpi_shape(tmp_path: Path, mode: Mode) -> None:
    contract = baseline_contract()
    at_date = dt.date(2027, 5, 9)  # day 39 of the 91-day second quarter
    to_date = {"orders": 2100.0, "ship": 3.4, "rating": 4.6, "buyers": 310.0,
               "visits": 12000.0, "refunds": 0.12, "person_days": 24.0}  # fmt: skip
    from kpixl.engine.pacing import pace_to_date

    result = pace_to_date(contract, at_date, to_date, 30)
    assert [k.next_step is not None for k in result.kpis] == [True] * 4
    built, typed = tmp_path / "built.xlsx", tmp_path / "typed.xlsx"
    build_workbook(contract, None, None, mode=mode, out=built)
    fill(built, typed, contract, result)
    check(contract, result, evaluate_workbook(typed, UDFS))


def test_a_new_workbook_validates_with_its_blank_pacing_sheet(tmp_path: Path) -> None:
    contract = load_contract(EXAMPLES / "acme-amz-us.yaml")
    out = tmp_path / "q.xlsx"
    build_workbook(contract, read_actuals(EXAMPLES / "acme-amz-us.actuals.csv"), None, out=out)
    issues = [i for i in validate_workbook(out) if i.severity == "error"]
    assert issues == []
    book = openpyxl.load_workbook(out)
    sheet = book[PACING]
    assert sheet.print_area is not None
    assert int(sheet.page_setup.paperSize) == 9
    assert sheet["A1"].value.startswith("Pacing")
    book.close()


def test_recalc_caches_the_typed_pacing_and_validate_accepts_it(tmp_path: Path) -> None:
    contract = load_contract(EXAMPLES / "acme-amz-us.yaml")
    actuals = read_actuals(EXAMPLES / "acme-amz-us.actuals.csv")
    two = Actuals(actuals.source, actuals.columns, actuals.rows[:2])
    daily = resolve_daily(contract, read_daily(DAILY))
    result = pace(contract, daily, dt.date(2027, 3, 12), settle(contract, two))
    built, typed = tmp_path / "built.xlsx", tmp_path / "typed.xlsx"
    build_workbook(contract, two, None, out=built)
    fill(built, typed, contract, result)
    recalc(typed)
    assert [i for i in validate_workbook(typed) if i.severity == "error"] == []
    cached = openpyxl.load_workbook(typed, data_only=True)
    values = {
        f"{PACING}!{c.coordinate}": c.value for row in cached[PACING].iter_rows() for c in row
    }
    check(contract, result, values)
    cached.close()
    # A forged pacing figure is caught like any other cached value.
    at = PacingLayout(Layout(contract))
    patch_cached_values(typed, typed, {PACING: {at.summary("total").replace("$", ""): 1.0}})
    codes = [i.code for i in validate_workbook(typed)]
    assert "KX405" in codes
