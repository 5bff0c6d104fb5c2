"""Pacing of the open period (SPEC §9): hand-checked cases for each column kind and KPI shape."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kpixl.actuals import Actuals
from kpixl.daily import DailyRows, resolve_daily
from kpixl.engine.pacing import (
    actual_for,
    breakpoints,
    column_kinds,
    next_breakpoint,
    pace,
    pace_to_date,
    project,
    rest_needed,
)
from kpixl.engine.settle import settle
from kpixl.errors import ActualsError
from kpixl.model import Contract, contract_from_data

JAN = dt.date(2027, 1, 1)


def contract(kpis: list[dict[str, Any]], **extra: Any) -> Contract:
    data: dict[str, Any] = {
        "id": "PACE-1",
        "client": "C",
        "provider": "P",
        "currency": "USD",
        "platform": "amazon",
        "start": "2027-01-01",
        "periods": 6,
        "fee": {"base": 500, "pool": 1000},
        "kpis": kpis,
    }
    data.update(extra)
    return contract_from_data(data, "pace.yaml")


def kpi(code: str, **fields: Any) -> dict[str, Any]:
    return {"code": code, "weight": 1.0, "target": 3100, "unit": "currency", **fields}


def daily(columns: list[str], rows: list[tuple[dt.date, list[float]]], terms: Contract) -> Any:
    table = [[day.isoformat(), *values] for day, values in rows]
    return resolve_daily(terms, DailyRows.from_rows(["date", *columns], table, "daily.csv"))


def days(first: dt.date, count: int, values: list[float]) -> list[tuple[dt.date, list[float]]]:
    return [(first + dt.timedelta(days=i), list(values)) for i in range(count)]


def test_plain_sum_kpi_projects_by_calendar_days() -> None:
    terms = contract([kpi("gmv")])
    result = pace(terms, daily(["gmv"], days(JAN, 10, [50]), terms))
    assert (result.period, result.index, result.as_of) == ("2027-01", 1, dt.date(2027, 1, 10))
    assert (result.days_elapsed, result.days_in_period, result.days_with_data) == (10, 31, 10)
    k = result.kpis[0]
    assert (k.to_date, k.projected, k.target) == (500, 1550, 3100)
    assert (k.attainment, k.factor, k.payout) == (0.5, 0.5, 500)
    assert k.next_step is not None
    assert (k.next_step.attainment, k.next_step.actual) == (1.0, 3100)
    assert k.next_step.rest_of_period == 2600
    assert k.next_step.per_day == 2600 / 21
    assert (result.bonus, result.base, result.total) == (500, 500, 1000)


def test_days_without_a_row_count_as_elapsed() -> None:
    terms = contract([kpi("gmv")])
    rows = [row for row in days(JAN, 10, [100]) if row[0].day != 5]
    result = pace(terms, daily(["gmv"], rows, terms), as_of=dt.date(2027, 1, 12))
    assert (result.days_elapsed, result.days_with_data) == (12, 9)
    assert result.kpis[0].projected == 900 * 31 / 12
    step = result.kpis[0].next_step
    assert step is not None and step.per_day == (3100 - 900) / 19


def test_rows_after_as_of_and_in_other_periods_are_ignored() -> None:
    terms = contract([kpi("gmv")])
    rows = days(JAN, 31, [100]) + days(dt.date(2027, 2, 1), 3, [7])
    result = pace(terms, daily(["gmv"], rows, terms), as_of=dt.date(2027, 1, 20))
    assert (result.kpis[0].to_date, result.days_with_data) == (2000, 20)


def test_on_target_has_no_next_step_without_higher_breakpoints() -> None:
    terms = contract([kpi("gmv")])
    result = pace(terms, daily(["gmv"], days(JAN, 10, [100]), terms))
    assert result.kpis[0].attainment == 1.0
    assert result.kpis[0].next_step is None


def test_ratio_kpi_needs_a_rate_for_the_rest_of_the_period() -> None:
    terms = contract([kpi("roas", unit="ratio", target=3, ratio=["ad_sales", "ad_spend"])])
    result = pace(terms, daily(["ad_sales", "ad_spend"], days(JAN, 10, [200, 100]), terms))
    k = result.kpis[0]
    assert (k.to_date, k.projected, k.attainment) == (2.0, 2.0, 2 / 3)
    assert k.next_step is not None
    assert k.next_step.actual == 3
    assert k.next_step.rest_of_period == pytest.approx(7300 / 2100, rel=1e-15)
    assert k.next_step.per_day is None
    assert column_kinds(terms) == {"ad_sales": "sum", "ad_spend": "sum"}


def test_lower_ratio_kpi_without_baseline() -> None:
    terms = contract(
        [kpi("tacos", unit="percent", direction="lower", target=0.1, ratio=["spend", "sales"])]
    )
    result = pace(terms, daily(["spend", "sales"], days(JAN, 10, [12, 100]), terms))
    k = result.kpis[0]
    assert k.to_date == 0.12
    assert k.attainment == pytest.approx(0.8, rel=1e-15)
    assert k.next_step is not None
    assert k.next_step.actual == pytest.approx(0.1, rel=1e-15)
    projected_sales = 1000 * 31 / 10
    expected = (k.next_step.actual * projected_sales - 120) / (projected_sales - 1000)
    assert k.next_step.rest_of_period == expected
    assert expected == pytest.approx(190 / 2100, rel=1e-12)


def test_mean_kpi_needs_an_average_for_the_remaining_days() -> None:
    terms = contract([kpi("score", unit="score", target=80)], start="2027-04-01")
    rows = [(dt.date(2027, 4, d), [v]) for d, v in ((1, 60.0), (2, 70.0), (3, 80.0))]
    result = pace(terms, daily(["score"], rows, terms))
    k = result.kpis[0]
    assert column_kinds(terms) == {"score": "mean"}
    assert (k.to_date, k.projected, k.attainment) == (70, 70, 0.875)
    assert k.next_step is not None
    assert k.next_step.rest_of_period == (80 * 30 - 70 * 3) / 27
    assert k.next_step.per_day is None


def test_last_kpi_takes_the_last_row() -> None:
    terms = contract([kpi("rating", unit="score", target=80, aggregate="last")])
    rows = [(dt.date(2027, 1, 1), [60.0]), (dt.date(2027, 1, 3), [70.0])]
    result = pace(terms, daily(["rating"], rows, terms))
    k = result.kpis[0]
    assert column_kinds(terms) == {"rating": "last"}
    assert (k.to_date, k.projected, k.attainment) == (70, 70, 0.875)
    assert k.next_step is not None
    assert (k.next_step.rest_of_period, k.next_step.per_day) == (80, None)


def test_higher_kpi_with_baseline() -> None:
    terms = contract([kpi("orders", unit="count", target=2000, baseline=1000)], start="2027-04-01")
    result = pace(terms, daily(["orders"], days(dt.date(2027, 4, 1), 15, [50]), terms))
    k = result.kpis[0]
    assert (k.to_date, k.projected, k.attainment) == (750, 1500, 0.5)
    assert k.next_step is not None
    assert (k.next_step.actual, k.next_step.rest_of_period) == (2000, 1250)
    assert k.next_step.per_day == 1250 / 15


def test_lower_mean_kpi_with_baseline() -> None:
    terms = contract(
        [kpi("ship", unit="days", direction="lower", target=6, baseline=10)], start="2027-04-01"
    )
    result = pace(terms, daily(["ship"], days(dt.date(2027, 4, 1), 6, [8]), terms))
    k = result.kpis[0]
    assert (k.to_date, k.projected, k.attainment) == (8, 8, 0.5)
    assert k.next_step is not None
    assert k.next_step.actual == 6
    assert k.next_step.rest_of_period == (6 * 30 - 8 * 6) / 24


def test_threshold_and_tier_breakpoints_under_the_attainment_cap() -> None:
    curve = {"mode": "stepped", "tiers": [{"from": 0.9, "rate": 0.5}, {"from": 1.0, "rate": 1.0},
                                          {"from": 1.2, "rate": 1.3}]}  # fmt: skip
    shape = kpi("gmv", threshold=0.8, attainment_cap=1.1, curve=curve)
    terms = contract([shape])
    assert breakpoints(terms.kpis[0]) == (0.8, 0.9, 1.0)
    below = pace(terms, daily(["gmv"], days(JAN, 10, [70]), terms))  # a = 0.7
    assert below.kpis[0].factor == 0
    assert below.kpis[0].next_step is not None
    assert below.kpis[0].next_step.attainment == 0.8
    assert below.kpis[0].next_step.actual == pytest.approx(0.8 * 3100, rel=1e-15)
    between = pace(terms, daily(["gmv"], days(JAN, 10, [85]), terms))  # a = 0.85
    assert between.kpis[0].next_step is not None
    assert between.kpis[0].next_step.attainment == 0.9
    above = pace(terms, daily(["gmv"], days(JAN, 10, [105]), terms))  # a = 1.05, 1.2 > cap
    assert (above.kpis[0].factor, above.kpis[0].next_step) == (1.0, None)
    capped = pace(terms, daily(["gmv"], days(JAN, 10, [200]), terms))  # a = 2 -> 1.1
    assert capped.kpis[0].attainment == 1.1


def test_last_day_of_period_has_no_rest() -> None:
    terms = contract(
        [
            {**kpi("gmv"), "weight": 0.5},
            {**kpi("roas", unit="ratio", target=3, ratio=["s", "c"]), "weight": 0.5},
        ]
    )
    result = pace(terms, daily(["gmv", "s", "c"], days(JAN, 31, [50, 2, 1]), terms))
    assert (result.days_elapsed, result.days_in_period) == (31, 31)
    for k in result.kpis:
        assert k.next_step is not None
        assert (k.next_step.rest_of_period, k.next_step.per_day) == (None, None)
    assert result.kpis[0].projected == 1550


def test_guardrail_columns_are_means() -> None:
    guard = [{"metric": "margin", "op": ">=", "bound": 0.25, "effect": "gate"}]
    terms = contract([kpi("gmv")], guardrails=guard)
    rows = [(dt.date(2027, 1, 1), [100, 0.1]), (dt.date(2027, 1, 2), [100, 0.3])]
    gated = pace(terms, daily(["gmv", "margin"], rows, terms))
    assert (gated.guardrail_multiplier, gated.bonus) == (0, 0)
    rows = [(dt.date(2027, 1, 1), [100, 0.2]), (dt.date(2027, 1, 2), [100, 0.4])]
    held = pace(terms, daily(["gmv", "margin"], rows, terms))
    assert (held.guardrail_multiplier, held.bonus) == (1, 1000)


def test_person_days_are_projected_for_the_base_fee() -> None:
    terms = contract([kpi("gmv")], min_input={"person_days": 20})
    result = pace(terms, daily(["gmv", "person_days"], days(JAN, 10, [100, 0.5]), terms))
    assert result.base == 387.5  # 0.5 · 31 = 15.5 of 20 person-days
    assert result.total == 1387.5


def test_contract_cap_counts_bonus_paid_before() -> None:
    cap = {"base": 500, "pool": 1000, "contract_cap": 1500}
    terms = contract([kpi("gmv", target=2800)], fee=cap)  # February: 28 days
    month = daily(["gmv"], days(dt.date(2027, 2, 1), 10, [100]), terms)
    assert pace(terms, month).bonus == 1000
    earlier = settle(terms, Actuals.from_rows(["period", "gmv"], [["2027-01", 2800]], "a.csv"))
    assert earlier.totals.bonus == 1000
    capped = pace(terms, month, settled=earlier)
    assert (capped.bonus, capped.total) == (500, 1000)
    assert capped.kpis[0].payout == 1000  # KPI payouts are before caps, as in settle


def test_cumulative_contract_paces_with_period_semantics() -> None:
    terms = contract([kpi("gmv")], settlement="cumulative")
    result = pace(terms, daily(["gmv"], days(dt.date(2027, 3, 1), 10, [50]), terms))
    assert (result.index, result.bonus) == (3, 500)


def test_to_dict_is_the_spec_document() -> None:
    terms = contract([kpi("gmv")])
    document = pace(terms, daily(["gmv"], days(JAN, 10, [50]), terms)).to_dict()
    assert list(document) == [
        "contract", "currency", "period", "index", "as_of", "days_elapsed", "days_in_period",
        "days_with_data", "kpis", "guardrail_multiplier", "bonus", "base", "total",
    ]  # fmt: skip
    assert list(document["kpis"][0]) == [
        "code", "to_date", "projected", "target", "attainment", "factor", "payout", "next_step",
    ]  # fmt: skip
    assert document["kpis"][0]["next_step"] == {
        "attainment": 1.0,
        "actual": 3100.0,
        "rest_of_period": 2600.0,
        "per_day": 2600 / 21,
    }
    assert document["as_of"] == "2027-01-10"


def test_quarterly_period_runs_over_its_calendar_days() -> None:
    terms = contract([kpi("gmv", target=9000)], period="quarter", periods=2)
    result = pace(terms, daily(["gmv"], days(dt.date(2027, 4, 1), 10, [100]), terms))
    assert (result.period, result.index, result.days_in_period) == ("2027-Q2", 2, 91)
    assert result.kpis[0].projected == 1000 * 91 / 10


@pytest.mark.parametrize(
    ("as_of", "code"),
    [
        (dt.date(2026, 12, 31), "KX236"),
        (dt.date(2027, 7, 1), "KX236"),
        (dt.date(2027, 2, 3), "KX237"),
    ],
)
def test_as_of_outside_the_contract_or_without_rows(as_of: dt.date, code: str) -> None:
    terms = contract([kpi("gmv")])
    with pytest.raises(ActualsError) as caught:
        pace(terms, daily(["gmv"], days(JAN, 3, [1]), terms), as_of=as_of)
    assert caught.value.issues[0].code == code


def test_a_denominator_still_zero_is_named() -> None:
    terms = contract([kpi("roas", unit="ratio", target=3, ratio=["s", "c"])])
    with pytest.raises(ActualsError) as caught:
        pace(terms, daily(["s", "c"], days(JAN, 3, [5, 0]), terms))
    issue = caught.value.issues[0]
    assert issue.code == "KX237"
    assert "column c" in issue.location


@pytest.mark.parametrize(
    ("header", "rows", "code", "where"),
    [
        (["day", "gmv"], [["2027-01-01", "1"]], "KX230", "daily.csv"),
        (["date", "sales"], [["2027-01-01", "1"]], "KX231", "daily.csv"),
        (["date", "gmv"], [["01/02/2027", "1"]], "KX232", "line 2, column date"),
        (["date", "gmv"], [["2027-07-01", "1"]], "KX233", "line 2 (date 2027-07-01)"),
        (["date", "gmv"], [["2027-01-01", "1"], ["2027-01-01", "2"]], "KX234", "line 3"),
        (["date", "gmv"], [["2027-01-01", "ten"]], "KX235", "(date 2027-01-01), column gmv"),
        (["date", "gmv"], [["2027-01-01", "-3"]], "KX235", "column gmv"),
    ],
)
def test_bad_daily_files_are_named(
    header: list[str], rows: list[list[str]], code: str, where: str
) -> None:
    terms = contract([kpi("gmv")])
    with pytest.raises(ActualsError) as caught:
        resolve_daily(terms, DailyRows.from_rows(header, rows, "daily.csv"))
    issue = caught.value.issues[0]
    assert issue.code == code
    assert where in issue.location
    assert issue.location.startswith("daily.csv")


def test_scalar_functions_refuse_what_they_cannot_use() -> None:
    with pytest.raises(ValueError, match="kind"):
        project(1.0, "median", 31, 3)
    with pytest.raises(ValueError, match="days elapsed"):
        project(1.0, "sum", 31, 32)
    with pytest.raises(ValueError, match="direction"):
        actual_for("up", 1.0, 10.0)
    with pytest.raises(ValueError, match="shape"):
        rest_needed("max", 1.0, 1.0, 31, 3)
    with pytest.raises(ValueError, match="denominator"):
        rest_needed("ratio", 1.0, 1.0, 31, 3)
    assert next_breakpoint(1.0, (0.8, 1.0, 1.2)) == 1.2
    assert next_breakpoint(1.2, (0.8, 1.0, 1.2)) is None
    assert project(10.0, "sum", 30, 3) == 100
    assert project(10.0, "mean", 30, 3) == 10


def test_column_to_date_holds_every_needed_column() -> None:
    terms = contract([kpi("roas", unit="ratio", target=3, ratio=["s", "c"])])
    result = pace(terms, daily(["s", "c"], days(JAN, 3, [5, 2]), terms))
    assert result.column_to_date == {"s": 15, "c": 6}


def test_blank_cells_are_days_without_that_figure() -> None:
    guard = [{"metric": "margin", "op": ">=", "bound": 0.25, "effect": "gate"}]
    terms = contract([kpi("gmv")], guardrails=guard)
    rows = [["2027-01-01", "100", "0.2"], ["2027-01-02", "", ""], ["2027-01-03", "50", "0.4"]]
    data = resolve_daily(terms, DailyRows.from_rows(["date", "gmv", "margin"], rows, "d.csv"))
    result = pace(terms, data)
    assert result.column_to_date == {"gmv": 150, "margin": pytest.approx(0.3)}
    assert result.days_with_data == 3
    rows = [["2027-01-01", "100", ""]]
    data = resolve_daily(terms, DailyRows.from_rows(["date", "gmv", "margin"], rows, "d.csv"))
    with pytest.raises(ActualsError) as caught:
        pace(terms, data)
    assert caught.value.issues[0].code == "KX237"
    assert "column margin" in caught.value.issues[0].location


def test_pace_to_date_is_pace_from_the_to_date_figures() -> None:
    terms = contract(
        [
            {**kpi("gmv"), "weight": 0.5},
            {**kpi("roas", unit="ratio", target=3, ratio=["s", "c"]), "weight": 0.5},
        ],
        fee={"base": 500, "pool": 1000, "contract_cap": 1200},
    )
    result = pace(terms, daily(["gmv", "s", "c"], days(JAN, 9, [90, 5, 2]), terms))
    again = pace_to_date(terms, result.as_of, result.column_to_date, result.days_with_data)
    assert again == result
    capped = pace_to_date(terms, result.as_of, result.column_to_date, 9, paid_before=1000)
    assert capped.bonus == 200
    with pytest.raises(ActualsError) as caught:
        pace_to_date(terms, result.as_of, {"gmv": 1.0, "s": 1.0}, 1)
    assert caught.value.issues[0].code == "KX237"
