"""settle_many equals settle, figure for figure, on generated portfolios (hypothesis)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpixl
from kpixl.actuals import Actuals, Adjustments, PeriodData, resolve
from kpixl.engine.many import settle_many
from kpixl.engine.settle import settle
from kpixl.model import Contract
from tests.strategies import build, contract_data

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from portfolio import portfolio  # noqa: E402


@st.composite
def rich_contract(draw: st.DrawFn) -> Contract:
    """A generated contract (tests/strategies.py) with the features it does not draw added:
    baselines, ramps, ratio KPIs, aggregates, ratio guardrails and other operators, minimum
    input, the exit clause and clawback."""
    data: dict[str, Any] = draw(contract_data())
    n = data["periods"]
    for k, kpi in enumerate(data["kpis"]):
        if draw(st.integers(0, 4)) == 0:  # below the target (higher), above it (lower)
            low = kpi["direction"] == "higher"
            kpi["baseline"] = draw(st.sampled_from([0, 2])) if low else kpi["target"] * 3
        if draw(st.booleans()):
            kpi["ramp"] = draw(st.lists(st.sampled_from([0.5, 0.8, 1.0, 1.2]), min_size=1,
                                        max_size=n))  # fmt: skip
        if draw(st.integers(0, 3)) == 0:
            del kpi["metric"]
            kpi["ratio"] = [f"n{k}", f"d{k}"]
            kpi["unit"] = "ratio"
        if draw(st.booleans()):
            kpi["aggregate"] = draw(st.sampled_from(["sum", "mean", "last"]))
    if draw(st.booleans()):
        data.setdefault("guardrails", []).append(
            {"ratio": ["gn", "gd"], "op": draw(st.sampled_from([">", "<=", "<"])),
             "bound": draw(st.sampled_from([0.5, 1.0, 2.0])), "effect": "gate"}
        )  # fmt: skip
    if draw(st.booleans()):
        data["min_input"] = {"person_days": draw(st.sampled_from([10, 20]))}
    if draw(st.booleans()):
        data["exit"] = {"threshold": draw(st.sampled_from([0.5, 0.9, 1.0])),
                        "consecutive": draw(st.integers(1, 3))}  # fmt: skip
    data["clawback"] = draw(st.booleans())
    return build(data)


@st.composite
def settled_periods(draw: st.DrawFn, contract: Contract) -> tuple[Actuals, Adjustments | None]:
    """Actuals for some periods of a contract (gaps included), and sometimes an adjustment."""
    columns = list(contract.required_columns)
    if contract.settlement == "cumulative":  # every period up to the last one given
        chosen = set(range(1, draw(st.integers(0, contract.periods)) + 1))
    else:
        chosen = draw(st.sets(st.integers(1, contract.periods), max_size=contract.periods))
    rows = []
    for p in sorted(chosen):
        row: list[Any] = [p]
        for column in columns:
            small = column.startswith(("d", "gd")) or column == "person_days"
            row.append(draw(st.integers(min_value=int(small), max_value=30 if small else 20_000)))
        rows.append(row)
    actuals = Actuals.from_rows(["period", *columns], rows, "generated.csv")
    adjustments = None
    if rows and draw(st.booleans()):
        period, column = rows[0][0], columns[0]
        adjustments = Adjustments.from_rows(
            ["period", "metric", "value", "reason", "approved_by"],
            [[contract.period_label(period), column, 7, "restated", "cfo"]],
            "generated.adjustments.csv",
        )
    return actuals, adjustments


@st.composite
def portfolios(draw: st.DrawFn) -> list[tuple[Contract, Actuals, Adjustments | None]]:
    items = []
    for contract in draw(st.lists(rich_contract(), min_size=1, max_size=6)):
        actuals, adjustments = draw(settled_periods(contract))
        items.append((contract, actuals, adjustments))
    return items


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(portfolios())
def test_settle_many_equals_settle_figure_for_figure(
    items: list[tuple[Contract, Actuals, Adjustments | None]],
) -> None:
    contracts = [contract for contract, _, _ in items]
    result = settle_many(contracts, [a for _, a, _ in items], [j for _, _, j in items])
    assert len(result) == len(items)
    for i, (contract, actuals, adjustments) in enumerate(items):
        expected = settle(contract, actuals, adjustments)
        got = result[i]
        # repr: every field, each float exactly (shortest round-trip digits; NaN equal to NaN).
        # Period by period first, so a failure names the period.
        assert repr(got.totals) == repr(expected.totals)
        for mine, theirs in zip(got.periods, expected.periods, strict=True):
            assert repr(mine) == repr(theirs)
        assert repr(got) == repr(expected)


def test_a_generated_portfolio_takes_the_fast_path_and_matches() -> None:
    items = portfolio(60, 12, 8)
    contracts = [contract for contract, _ in items]
    data = [resolve(contract, actuals) for contract, actuals in items]
    result = kpixl.settle_many(contracts, data)
    assert result.fallback == ()
    assert list(result) == [
        settle(contract, d) for contract, d in zip(contracts, data, strict=True)
    ]
    assert result[1:3] == [result[1], result[2]]


def test_non_finite_figures_fall_back_to_settle() -> None:
    data: dict[str, Any] = {
        "id": "Z", "client": "c", "provider": "p", "currency": "USD", "platform": "amazon",
        "start": "2027-01-01", "periods": 2, "fee": {"base": 10, "pool": 100},
        "kpis": [{"code": "k0", "unit": "ratio", "weight": 1, "target": 5, "ratio": ["n", "d"]}],
    }  # fmt: skip
    contract = build(data)
    # resolve() refuses a zero denominator; resolved data built by a caller may still hold one.
    zero = PeriodData((1, 2), {"n": np.asarray([7.0, 3.0]), "d": np.asarray([2.0, 0.0])})
    good = PeriodData((1, 2), {"n": np.asarray([7.0, 3.0]), "d": np.asarray([2.0, 1.0])})
    result = settle_many([contract, contract], [zero, good])
    assert result.fallback == (0,)
    with np.errstate(divide="ignore"):
        assert repr(result[0]) == repr(settle(contract, zero))
    assert repr(result[1]) == repr(settle(contract, good))


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="one actuals"):
        settle_many([], [Actuals.from_rows(["period"], [], "x.csv")])
