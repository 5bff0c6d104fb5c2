"""Scenarios and comparisons (SPEC §6): rows equal settle(), threshold edges, crossings."""

from __future__ import annotations

from typing import Any

import pytest

from kpixl.actuals import Actuals, Cell
from kpixl.engine.attainment import Direction, attainment
from kpixl.engine.scenarios import (
    ScenarioFee,
    actual_for_level,
    scenario_actuals,
    scenario_contract,
    scenario_fee,
    scenarios,
)
from kpixl.engine.settle import settle
from kpixl.model import Contract, contract_from_data
from kpixl.ratecard import DEFAULT_LEVELS
from tests.workbook.contracts import case


def real_actuals(level: float) -> Actuals:
    """SPEC example columns that put every KPI at ``level`` in period 1 (target gmv 180000)."""
    gmv = 180000 * level
    ad_spend = (2 - level) * 0.1 * gmv  # TACoS = ad_spend / gmv, lower, target 0.10
    ad_sales = 3 * level * ad_spend  # ROAS = ad_sales / ad_spend, target 3.0
    header = ["period", "gmv", "ad_sales", "ad_spend", "gross_margin", "return_rate", "person_days"]
    row: list[Cell] = ["2027-01", gmv, ad_sales, ad_spend, 0.25, 0.08, 20]
    return Actuals.from_rows(header, [row], "real")


@pytest.mark.parametrize("level", [0.5, 1.0, 1.5])
def test_rows_equal_settle_on_the_real_columns(spec_contract: Contract, level: float) -> None:
    (row,) = scenarios(spec_contract, [level])
    period = settle(spec_contract, real_actuals(level)).periods[0]
    assert (row.base, row.bonus, row.total) == (period.base, period.bonus, period.total)


def test_scenario_fee_by_hand() -> None:
    # SPEC §5 worked example, periods 1 and 6: payouts 12250 + 6300 + 4200 = 22750 under the
    # 31500 period cap; 18375 + 8190 + 5600 = 32165 capped at 31500.
    assert scenario_fee(9000, [12250, 6300, 4200], 31500) == ScenarioFee(9000, 22750, 31750)
    assert scenario_fee(9000, [18375, 8190, 5600], 31500) == ScenarioFee(9000, 31500, 40500)
    # The contract cap is what is left of it in period 1: all of it.
    assert scenario_fee(9000, [12250, 6300, 4200], 31500, 20000).bonus == 20000
    # ROUND at each named point, Excel's way: base 100.005 -> 100.01, bonus 0.125 + 0.2 -> 0.33.
    assert scenario_fee(100.005, [0.125, 0.2]) == ScenarioFee(100.01, 0.33, 100.34)
    assert scenario_fee(9000, [], None, None, 0) == ScenarioFee(9000, 0, 9000)


@pytest.mark.parametrize("i", range(12))  # caps, min input, clawback, quarters
@pytest.mark.parametrize("settlement", ["period", "cumulative"])
def test_scenario_fee_is_settles_period_one(i: int, settlement: str) -> None:
    # scenarios() composes the fee with scenario_fee (the function KPIXL_SCENARIO calls) from
    # settle()'s payouts: it must be what settle() itself gives period 1.
    contract = case(i).contract.model_copy(update={"settlement": settlement})
    levels = (*DEFAULT_LEVELS, 0.79, 2.5)
    for level, row in zip(levels, scenarios(contract, levels), strict=True):
        actuals = scenario_actuals(contract, level)
        period = settle(scenario_contract(contract), actuals).periods[0]
        assert (row.base, row.bonus, row.total) == (period.base, period.bonus, period.total)


def test_spec_contract_fee_by_level(spec_contract: Contract) -> None:
    rows = scenarios(spec_contract, cps_rate=0.08)
    assert [r.level for r in rows] == [0, 0.5, 0.8, 1.0, 1.2, 1.5]
    # L=0.5: gmv under its 0.8 threshold, roas under its first tier 0.8, tacos under 0.9: 0.
    # L=0.8: gmv 21000·0.5·0.8 = 8400; roas 21000·0.3·0.5 = 3150; tacos 0 -> 11550.
    # L=1.0: every factor is exactly 1 (marginal 1·1.0, stepped tier 1.0, linear point 1.0),
    #        so the bonus is the whole pool 21000.
    # L=1.2: gmv f = 1 + 0.2·1.5 = 1.3 -> 13650; roas 1.3 -> 8190; tacos 1.4 -> 5880 -> 27720.
    # L=1.5: gmv 1.75 -> 18375; roas 8190; tacos capped 1.4 -> 5880; 32445 capped at 31500.
    assert [r.bonus for r in rows] == [0, 0, 11550, 21000, 27720, 31500]
    assert [r.total for r in rows] == [9000, 9000, 20550, 30000, 36720, 40500]
    assert [r.gmv for r in rows] == [0, 90000, 144000, 180000, 216000, 270000]
    assert rows[0].fee_share is None
    assert rows[3].fee_share == 30000 / 180000
    assert [r.cps_fee for r in rows] == [0, 7200, 11520, 14400, 17280, 21600]
    assert {r.fixed_fee for r in rows} == {30000}  # no quote section: fee.base + fee.pool


EDGE_KPI: dict[str, Any] = {
    "code": "tacos",
    "unit": "percent",
    "direction": "lower",
    "weight": 1,
    "target": 0.1,
    "threshold": 0.8,
}
LOWER_EDGE: dict[str, Any] = {
    "id": "EDGE",
    "client": "c",
    "provider": "p",
    "currency": "USD",
    "platform": "shopee",
    "start": "2027-01-01",
    "periods": 1,
    "fee": {"base": 1000, "pool": 2000},
    "kpis": [EDGE_KPI],
}


@pytest.mark.parametrize(
    ("direction", "target", "level", "naive"),
    [
        ("higher", 0.35, 0.8, 0.8 * 0.35),  # 0.27999999999999997 / 0.35 = 0.7999999999999999
        ("lower", 0.1, 0.9, (2 - 0.9) * 0.1),  # 2 − 0.11000000000000001 / 0.1 = 0.8999999999999999
    ],
)
def test_threshold_edge_pays_although_the_naive_actual_falls_short(
    direction: Direction, target: float, level: float, naive: float
) -> None:
    kpi = EDGE_KPI | {"direction": direction, "target": target, "threshold": level}
    contract = contract_from_data(LOWER_EDGE | {"kpis": [kpi]})
    assert float(attainment(naive, target, direction)) < level  # the trap
    nudged = actual_for_level(contract.kpis[0], target, None, level)
    assert float(attainment(nudged, target, direction)) >= level
    assert nudged == pytest.approx(naive, rel=1e-15)
    (row,) = scenarios(contract, [level])
    assert row.bonus == 2000 * level  # ROUND(pool · 1 · L, 2): the threshold pays at L


def test_guardrails_hold_at_strict_bounds() -> None:
    data = LOWER_EDGE | {
        "guardrails": [
            {"metric": "m", "op": ">", "bound": 0.3},
            {"metric": "r", "op": "<", "bound": 0.1},
        ]
    }
    (row,) = scenarios(contract_from_data(data), [1.0])
    assert row.bonus == 2000


def test_lower_kpi_without_baseline_stops_at_zero() -> None:
    data = LOWER_EDGE | {"kpis": [EDGE_KPI | {"unit": "currency"}]}
    (row,) = scenarios(contract_from_data(data), [2.5])
    assert dict(row.actuals)["tacos"] == 0.0
    assert dict(row.attainments)["tacos"] == 2.0
