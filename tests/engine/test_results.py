"""The engine's results carry the workbook's helper figures without changing the §8 JSON."""

from __future__ import annotations

import math

from kpixl.engine.exit_clause import miss_streaks
from kpixl.engine.money import contract_total
from kpixl.engine.settle import settle
from tests.workbook.contracts import case

PERIOD_KEYS = [
    "index",
    "period",
    "kpis",
    "weighted_attainment",
    "guardrail_multiplier",
    "bonus",
    "base",
    "total",
    "miss",
    "exit_eligible",
    "cumulative_bonus",
]
KPI_KEYS = ["code", "actual", "target", "attainment", "factor", "payout"]


def test_the_json_document_keeps_its_keys() -> None:
    for i in range(12):
        c = case(i)
        document = settle(c.contract, c.actuals, c.adjustments).to_dict()
        for period in document["periods"]:
            assert list(period) == PERIOD_KEYS
            assert all(list(kpi) == KPI_KEYS for kpi in period["kpis"])


def test_helper_figures_agree_with_the_settled_ones() -> None:
    for i in range(24):
        c = case(i)
        result = settle(c.contract, c.actuals, c.adjustments)
        paid = 0.0
        for period in result.periods:
            assert period.paid_before == paid
            paid = period.cumulative_bonus
            assert len(period.own_attainments) == len(c.contract.kpis)
            assert len(period.guardrail_values) == len(c.contract.guardrails)
            assert (period.to_date_bonus is None) == (c.contract.settlement == "period")
            for kpi, baseline in zip(c.contract.kpis, period.baselines, strict=True):
                assert (baseline is None) == (kpi.baseline is None)
            if c.contract.settlement == "period":
                assert period.own_attainments == tuple(k.attainment for k in period.kpis)
            if c.contract.exit is not None:
                assert period.exit_eligible == (period.miss_streak >= c.contract.exit.consecutive)
            else:
                assert period.miss_streak == 0
        bonuses = [p.bonus for p in result.periods]
        assert result.totals.bonus == contract_total(bonuses, c.contract.decimals)


def test_miss_streaks_count_misses_in_a_row() -> None:
    assert miss_streaks([True, True, False, True]) == [1, 2, 0, 1]
    assert miss_streaks([]) == []


def test_contract_total_rounds_the_exact_sum() -> None:
    assert contract_total([0.1] * 10, 2) == 1.0
    assert contract_total([1e16, 1.0, -1e16], 0) == 1.0
    assert math.isclose(contract_total([1.005, 0.0], 2), 1.01)
