"""The review for renewal: every figure is a count or sum of the settlement's own figures."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpixl.actuals import Actuals, read_actuals, read_adjustments
from kpixl.engine.results import Settlement
from kpixl.engine.review import Review, halves, review
from kpixl.engine.settle import settle
from kpixl.model import Contract, load_contract
from tests.conftest import EXAMPLES
from tests.strategies import actuals_for, build, contract_data


def test_worked_example_review() -> None:
    contract = load_contract(EXAMPLES / "acme-amz-us.yaml")
    result = review(contract, settle(contract, read_actuals(EXAMPLES / "acme-amz-us.actuals.csv")))
    gmv, roas, tacos = result.kpis
    assert gmv.at_or_above_target == 4  # 1.11, 1.125, 1.1, 1.5
    assert gmv.below_threshold == 2  # 0.5 and 0.6 under 0.8
    assert roas.below_threshold is None  # no threshold
    assert roas.at_or_above_target == 3  # 1.03, 1.23, 1.3
    assert gmv.first_half_attainment == pytest.approx((200 / 180 + 270 / 240 + 1.1) / 3)
    assert gmv.second_half_attainment == pytest.approx((0.5 + 0.6 + 1.5) / 3)
    fee = result.fee
    assert (fee.base, fee.bonus, fee.total) == (53100.0, 66990.49, 120090.49)
    assert fee.pool == 126000
    assert fee.bonus_share_of_pool == 66990.49 / 126000
    assert fee.revenue == 1_610_000
    assert fee.fee_share_of_revenue == 120090.49 / 1_610_000
    assert fee.revenue_growth == pytest.approx(1.4)
    assert fee.periods[2].fee_share_of_revenue == 8100 / 330000
    assert fee.periods[0].revenue_growth == 0
    assert result.exit is not None
    assert (result.exit.misses, result.exit.missed_periods) == (2, ("2027-04", "2027-05"))
    assert (result.exit.longest_streak, result.exit.exit_eligible_now) == (2, False)
    assert (result.adjustments.count, result.adjustments.fee_effect) == (0, None)


def test_exit_eligible_now_when_the_last_periods_miss() -> None:
    contract = load_contract(EXAMPLES / "acme-amz-us.yaml")
    actuals = read_actuals(EXAMPLES / "acme-amz-us.actuals.csv")
    five = Actuals(actuals.source, actuals.columns, actuals.rows[:5])
    result = review(contract, settle(contract, five))
    assert result.exit is not None and result.exit.exit_eligible_now


def test_halves_leave_an_odd_middle_out() -> None:
    assert halves((1.0, 2.0, 3.0, 4.0, 5.0)) == (1.5, 4.5)
    assert halves((1.0,)) == (None, None)


def test_adjustments_count_and_fee_effect() -> None:
    contract = load_contract(EXAMPLES / "shopee-vn-fashion.yaml")
    actuals = read_actuals(EXAMPLES / "shopee-vn-fashion.actuals.csv")
    adjustments = read_adjustments(EXAMPLES / "shopee-vn-fashion.adjustments.csv")
    adjusted, plain = settle(contract, actuals, adjustments), settle(contract, actuals)
    result = review(contract, adjusted, plain)
    assert result.adjustments.count == len(adjusted.adjustments) == 1
    record = adjusted.adjustments[0]
    assert record.original is not None
    metric = result.adjustments.by_metric[0]
    assert (metric.metric, metric.count) == (record.metric, 1)
    assert metric.net_change == record.adjusted - record.original
    assert result.adjustments.fee_effect == adjusted.totals.total - plain.totals.total


def check_sums(contract: Contract, settlement: Settlement, result: Review) -> None:
    """Every review figure against the settlement's own figures."""
    periods = settlement.periods
    assert result.periods == tuple(p.period for p in periods)
    for k, kpi in enumerate(result.kpis):
        attainments = [p.kpis[k].attainment for p in periods]
        assert list(kpi.attainment) == attainments
        assert kpi.at_or_above_target == sum(a >= 1 for a in attainments)
        threshold = contract.kpis[k].threshold
        if threshold is not None:
            assert kpi.below_threshold == sum(a < threshold for a in attainments)
    fee = result.fee
    assert (fee.base, fee.bonus, fee.total) == (
        settlement.totals.base,
        settlement.totals.bonus,
        settlement.totals.total,
    )
    assert [(r.base, r.bonus, r.total) for r in fee.periods] == [
        (p.base, p.bonus, p.total) for p in periods
    ]
    assert math.isclose(math.fsum(r.bonus for r in fee.periods), fee.bonus, abs_tol=0.005)
    assert fee.pool == contract.fee.pool * len(periods)
    if result.exit is not None:
        assert result.exit.misses == sum(p.miss for p in periods)
        assert result.exit.exit_eligible_now == (bool(periods) and periods[-1].exit_eligible)
        assert result.exit.longest_streak >= (1 if result.exit.misses else 0)
        assert result.exit.longest_streak <= result.exit.misses


@pytest.mark.parametrize(
    "name", ["acme-amz-us", "internal-team-plan", "shopee-vn-fashion", "tiktok-us-beauty"]
)
def test_review_of_the_bundled_examples_sums_the_settlement(name: str) -> None:
    contract = load_contract(EXAMPLES / f"{name}.yaml")
    adjustments_file = EXAMPLES / f"{name}.adjustments.csv"
    adjustments = read_adjustments(adjustments_file) if Path(adjustments_file).exists() else None
    settlement = settle(contract, read_actuals(EXAMPLES / f"{name}.actuals.csv"), adjustments)
    check_sums(contract, settlement, review(contract, settlement))


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_review_of_generated_contracts_sums_the_settlement(data: st.DataObject) -> None:
    mapping = data.draw(contract_data())
    if data.draw(st.booleans()):
        mapping["exit"] = {"threshold": 0.8, "consecutive": data.draw(st.integers(1, 3))}
    contract = build(mapping)
    settlement = settle(contract, data.draw(actuals_for(mapping)))
    result = review(contract, settlement)
    check_sums(contract, settlement, result)
    document = result.to_dict()
    assert document["periods_settled"] == len(settlement.periods)
    assert document["fee"]["total"] == settlement.totals.total


def test_cumulative_revenue_is_split_back_into_periods() -> None:
    contract = load_contract(EXAMPLES / "acme-amz-us.yaml")
    cumulative = contract.model_copy(update={"settlement": "cumulative"})
    actuals = read_actuals(EXAMPLES / "acme-amz-us.actuals.csv")
    settlement = settle(cumulative, actuals)
    result = review(cumulative, settlement)
    revenues = [p.revenue for p in result.fee.periods]
    assert revenues == [200000, 270000, 330000, 150000, 180000, 480000]
    assert result.fee.bonus == 108589.37
    assert result.kpis[0].attainment == tuple(p.kpis[0].attainment for p in settlement.periods)


def test_review_without_settled_periods() -> None:
    contract = load_contract(EXAMPLES / "acme-amz-us.yaml")
    empty = Actuals("a.csv", tuple(contract.required_columns), ())
    result = review(contract, settle(contract, empty))
    document = result.to_dict()
    assert document["periods_settled"] == 0
    assert document["fee"]["revenue_growth"] is None
    assert document["fee"]["bonus_share_of_pool"] is None
    assert document["exit"]["exit_eligible_now"] is False
    assert document["kpis"][0]["first_half_attainment"] is None
