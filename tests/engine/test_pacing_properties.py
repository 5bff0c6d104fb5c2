"""Invariants of pacing (SPEC §9) on generated contracts and daily rows (hypothesis)."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kpixl.actuals import Actuals
from kpixl.daily import DailyData, DailyRows, resolve_daily
from kpixl.engine.pacing import pace
from kpixl.engine.settle import settle
from kpixl.model import Contract
from tests.strategies import build, contract_data

values = st.integers(min_value=0, max_value=2_000)


def month_days(p: int) -> list[dt.date]:
    year, month = 2027, p  # generated contracts start 2027-01 and run at most 6 months
    return [dt.date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]


def daily_of(terms: Contract, columns: list[str], table: list[list[Any]]) -> DailyData:
    return resolve_daily(terms, DailyRows.from_rows(["date", *columns], table, "daily.csv"))


@st.composite
def mean_units(draw: st.DrawFn, mapping: dict[str, Any]) -> dict[str, Any]:
    """Some KPIs become `score` KPIs, whose columns roll up as means."""
    for kpi in mapping["kpis"]:
        if draw(st.booleans()):
            kpi["unit"] = "score"
    return mapping


@st.composite
def ratio_units(draw: st.DrawFn, mapping: dict[str, Any]) -> dict[str, Any]:
    """Some KPIs become ratio KPIs m{k} / d{k} (sum columns, ratio of sums)."""
    for k, kpi in enumerate(mapping["kpis"]):
        if draw(st.booleans()):
            del kpi["metric"]
            kpi["ratio"] = [f"m{k}", f"d{k}"]
            kpi["unit"] = "ratio"
            kpi["target"] = draw(st.sampled_from([0.5, 1.0, 2.5]))
    return mapping


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_whole_period_pacing_of_ratio_kpis_equals_settling_the_month_totals(
    data: st.DataObject,
) -> None:
    mapping = data.draw(ratio_units(data.draw(contract_data(settlement="period", periods=2))))
    terms = build(mapping)
    columns = list(terms.required_columns)
    positive = st.integers(min_value=1, max_value=2_000)
    table = [[day.isoformat(), *(data.draw(positive) for _ in columns)] for day in month_days(2)]
    g0 = columns.index("g0") + 1 if "g0" in columns else None
    if g0 is not None:
        for row in table:
            row[g0] = table[0][g0]  # a guardrail column is a mean: keep it constant
    totals = [
        table[0][i] if i == g0 else sum(row[i] for row in table) for i in range(1, len(columns) + 1)
    ]
    whole = Actuals.from_rows(["period", *columns], [[2, *totals]], "a.csv")
    expected = settle(terms, whole).periods[-1]
    result = pace(terms, daily_of(terms, columns, table))
    assert (result.bonus, result.total) == (expected.bonus, expected.total)
    for k, s in zip(result.kpis, expected.kpis, strict=True):
        assert (k.projected, k.attainment, k.payout) == (s.actual, s.attainment, s.payout)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_whole_period_pacing_equals_settling_the_month_totals(data: st.DataObject) -> None:
    mapping = data.draw(mean_units(data.draw(contract_data(settlement="period"))))
    terms = build(mapping)
    p = data.draw(st.integers(min_value=1, max_value=terms.periods))
    columns = [kpi["metric"] for kpi in mapping["kpis"]] + ["g0"]
    means = {kpi["metric"] for kpi in mapping["kpis"] if kpi["unit"] == "score"} | {"g0"}
    dates = month_days(p)
    constant = {column: data.draw(values) for column in means}
    table = [[day.isoformat(), *(constant.get(c, None) for c in columns)] for day in dates]
    for row in table:
        for i in range(1, len(columns) + 1):
            if row[i] is None:
                row[i] = data.draw(values)
    totals = [
        constant[c] if c in means else sum(row[i] for row in table)
        for i, c in enumerate(columns, start=1)
    ]
    earlier = [[q, *(data.draw(values) for _ in columns)] for q in range(1, p)]
    before = Actuals.from_rows(["period", *columns], earlier, "a.csv")
    whole = Actuals.from_rows(["period", *columns], [*earlier, [p, *totals]], "a.csv")
    expected = settle(terms, whole).periods[-1]
    result = pace(terms, daily_of(terms, columns, table), settled=settle(terms, before))
    assert (result.index, result.days_elapsed, result.days_in_period) == (p, len(dates), len(dates))
    assert (result.bonus, result.base, result.total) == (
        expected.bonus,
        expected.base,
        expected.total,
    )
    assert result.guardrail_multiplier == expected.guardrail_multiplier
    for k, s in zip(result.kpis, expected.kpis, strict=True):
        assert (k.projected, k.target, k.attainment, k.factor, k.payout) == (
            s.actual,
            s.target,
            s.attainment,
            s.factor,
            s.payout,
        )


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_projected_bonus_is_monotone_in_a_higher_is_better_daily_value(
    data: st.DataObject,
) -> None:
    mapping = data.draw(
        mean_units(data.draw(contract_data(settlement="period", direction="higher")))
    )
    terms = build(mapping)
    columns = [kpi["metric"] for kpi in mapping["kpis"]] + ["g0"]
    e = data.draw(st.integers(min_value=1, max_value=31))
    table = [
        [dt.date(2027, 1, d).isoformat(), *(data.draw(values) for _ in columns)]
        for d in range(1, e + 1)
    ]
    base = pace(terms, daily_of(terms, columns, table))
    day = data.draw(st.integers(min_value=0, max_value=e - 1))
    k = data.draw(st.integers(min_value=1, max_value=len(columns) - 1))
    table[day][k] += data.draw(st.integers(min_value=1, max_value=5_000))
    more = pace(terms, daily_of(terms, columns, table))
    assert more.bonus >= base.bonus
    assert more.kpis[k - 1].payout >= base.kpis[k - 1].payout


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_per_day_times_remaining_days_plus_to_date_is_the_actual(data: st.DataObject) -> None:
    mapping = data.draw(contract_data(settlement="period", periods=3))
    terms = build(mapping)
    columns = [kpi["metric"] for kpi in mapping["kpis"]] + ["g0"]
    e = data.draw(st.integers(min_value=1, max_value=30))
    present = data.draw(st.sets(st.integers(min_value=1, max_value=e), min_size=1))
    table = [
        [dt.date(2027, 3, d).isoformat(), *(data.draw(values) for _ in columns)]
        for d in sorted(present)
    ]
    result = pace(terms, daily_of(terms, columns, table), as_of=dt.date(2027, 3, e))
    remaining = 31 - e
    for k in result.kpis:
        if k.next_step is None:
            continue
        assert k.next_step.per_day is not None
        total = k.next_step.per_day * remaining + k.to_date
        assert math.isclose(total, k.next_step.actual, rel_tol=1e-12, abs_tol=1e-9)
