"""Invariants of the engine, checked on generated contracts (hypothesis)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kpixl.actuals import Actuals
from kpixl.engine.curves import factor
from kpixl.engine.settle import settle
from kpixl.model import contract_from_data
from tests.strategies import actuals_for, build, contract_data, curves

attainments = st.floats(min_value=0, max_value=3, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_caps_are_never_exceeded(data: st.DataObject) -> None:
    mapping = data.draw(contract_data())
    contract = build(mapping)
    result = settle(contract, data.draw(actuals_for(mapping)))
    fee = contract.fee
    paid = 0.0
    for period in result.periods:
        assert period.bonus >= 0
        if fee.period_cap is not None and contract.settlement == "period":
            assert period.bonus <= fee.period_cap
        paid += period.bonus
        if fee.period_cap is not None:
            assert paid <= fee.period_cap * period.index + 1e-6
        if fee.contract_cap is not None:
            assert paid <= fee.contract_cap + 1e-6
        assert abs(period.cumulative_bonus - paid) < 1e-6


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_bonus_never_falls_when_a_higher_is_better_actual_rises(data: st.DataObject) -> None:
    mapping = data.draw(contract_data(settlement="period", direction="higher", periods=1))
    contract = build(mapping)
    actuals = data.draw(actuals_for(mapping))
    k = data.draw(st.integers(min_value=0, max_value=len(mapping["kpis"]) - 1))
    rise = data.draw(st.integers(min_value=1, max_value=10_000))
    column = actuals.columns.index(f"m{k}")
    row = actuals.rows[0]
    cells = dict(row.cells)
    cells[f"m{k}"] = float(cells[f"m{k}"] or 0) + rise  # type: ignore[arg-type]
    raised = Actuals.from_rows(
        ["period", *actuals.columns], [[row.period, *cells.values()]], actuals.source
    )
    assert column >= 0
    before = settle(contract, actuals).periods[0].bonus
    after = settle(contract, raised).periods[0].bonus
    assert after >= before


@given(attainments)
def test_single_marginal_tier_at_rate_one_is_the_default_curve(a: float) -> None:
    assert factor(a, [0.0], [1.0], "marginal") == factor(a) == a


@given(st.data())
def test_stepped_and_linear_agree_at_tier_points(data: st.DataObject) -> None:
    curve = data.draw(curves("linear", monotone=data.draw(st.booleans())))
    assert curve is not None
    froms = [t["from"] for t in curve["tiers"]]
    rates = [t["rate"] for t in curve["tiers"]]
    points = np.array(froms)
    assert list(factor(points, froms, rates, "stepped")) == list(
        factor(points, froms, rates, "linear")
    )


@given(attainments, attainments)
def test_factor_is_monotone_for_rising_rates(a: float, b: float) -> None:
    low, high = sorted((a, b))
    froms, rates = [0.8, 1.0, 1.2], [0.5, 1.0, 1.4]
    for mode in ("stepped", "marginal", "linear"):
        assert factor(low, froms, rates, mode) <= factor(high, froms, rates, mode)  # type: ignore[arg-type, operator]


def _exact_cents(mapping: dict[str, Any]) -> None:
    # Stepped rates in quarters, weights in eighths and pools in multiples of 64 make every
    # payout (and half of it, for a guardrail multiplier of 0.5) a whole amount, so cumulative
    # and period rounding cannot drift apart. A factor cap would break that: drop it.
    count = len(mapping["kpis"])
    eighths = [1] * count
    eighths[0] += 8 - count
    for kpi, share in zip(mapping["kpis"], eighths, strict=True):
        kpi["weight"] = share / 8
        kpi.pop("factor_cap", None)
    mapping["fee"]["pool"] = mapping["fee"]["pool"] // 64 * 64


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_cumulative_with_identical_periods_equals_period_settlement(data: st.DataObject) -> None:
    mapping = data.draw(contract_data(settlement="period", modes=("stepped",)))
    _exact_cents(mapping)
    actuals = data.draw(actuals_for(mapping, constant=True))
    by_period = settle(contract_from_data(mapping), actuals)
    cumulative = settle(contract_from_data({**mapping, "settlement": "cumulative"}), actuals)
    assert [p.bonus for p in cumulative.periods] == [p.bonus for p in by_period.periods]
    assert cumulative.totals == by_period.totals


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_cumulative_with_identical_periods_is_within_rounding_of_period(
    data: st.DataObject,
) -> None:
    mapping = data.draw(contract_data(settlement="period", caps=False))
    actuals = data.draw(actuals_for(mapping, constant=True))
    by_period = settle(contract_from_data(mapping), actuals)
    cumulative = settle(contract_from_data({**mapping, "settlement": "cumulative"}), actuals)
    unit = 10.0**-by_period.decimals
    for a, b in zip(cumulative.periods, by_period.periods, strict=True):
        # Each period's payouts round once per KPI, the to-date payouts once in all: the two
        # can drift by at most half a unit per KPI and period, plus the bonus roundings.
        slack = a.index * (len(mapping["kpis"]) + 1) * unit
        assert abs(a.cumulative_bonus - b.cumulative_bonus) <= slack + 1e-9
