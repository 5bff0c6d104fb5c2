"""Quotes compared on the same outcomes (SPEC §10): hand-computed fees, crossings, properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpixl.engine.comparison import (
    Fee,
    Outcome,
    ScenarioComparison,
    compare,
    crossings_of,
    monthly_fee,
)
from kpixl.engine.outcomes import level_columns, level_outcomes, outcomes_from_rows
from kpixl.engine.rounding import excel_round
from kpixl.engine.scenarios import scenarios
from kpixl.errors import ContractError
from kpixl.model import Contract, contract_from_data
from kpixl.ratecard import DEFAULT_LEVELS
from tests.strategies import build, contract_data


def quote(cid: str, **changes: Any) -> Contract:
    """A small monthly quote: base 1000, pool 2000, one GMV KPI with target 100000."""
    data: dict[str, Any] = {
        "id": cid,
        "client": "Shop",
        "provider": f"Provider {cid}",
        "currency": "USD",
        "platform": "amazon",
        "start": "2027-01-01",
        "period": "month",
        "periods": 3,
        "revenue_kpi": "gmv",
        "fee": {"base": 1000, "pool": 2000},
        "kpis": [{"code": "gmv", "unit": "currency", "weight": 1, "target": 100000}],
    }
    data.update(changes)
    return contract_from_data(data, f"{cid}.yaml")


def outcome(name: str, **values: float) -> Outcome:
    return Outcome(name, tuple(values.items()))


def fees(result: Any) -> list[list[tuple[str, float, float, float, float | None]]]:
    return [
        [(f.contract, f.base, f.bonus, f.total, f.share_of_revenue) for f in s.fees]
        for s in result.scenarios
    ]


MONTHLY = quote("M", fee={"base": 500, "pool": 3000})
QUARTERLY = quote(
    "Q",
    period="quarter",
    periods=2,
    fee={"base": 2400, "pool": 9000},
    kpis=[
        {"code": "gmv", "unit": "currency", "weight": 0.6, "target": 240000},
        {
            "code": "roas",
            "unit": "ratio",
            "weight": 0.4,
            "target": 4,
            "ratio": ["ad_sales", "ad_spend"],
        },
    ],
)
OUTCOMES = [
    outcome("weak", gmv=50000, ad_sales=20000, ad_spend=4000),
    outcome("plan", gmv=100000, ad_sales=30000, ad_spend=10000),
    outcome("boom", gmv=200000, ad_sales=20000, ad_spend=10000),
]


def test_monthly_and_quarterly_quotes_with_different_targets() -> None:
    result = compare([MONTHLY, QUARTERLY], OUTCOMES)
    # M (monthly, target 100000, pool 3000, base 500): fee = 500 + 3000 · gmv / 100000.
    # Q (quarterly, gmv target 240000 per quarter = 80000 a month, ROAS 4; base 2400 and pool
    # 9000 per quarter): a quarter of "plan" is gmv 300000 (a = 1.25, 9000·0.6·1.25 = 6750)
    # and ROAS 90000 / 30000 = 3 (a = 0.75, 9000·0.4·0.75 = 2700): 2400 + 9450 = 11850 per
    # quarter, two quarters over 6 months: 3950 a month (base 800, bonus 3150).
    # "weak": gmv 150000/240000 = 0.625 -> 3375; ROAS 5 -> 1.25 -> 4500: 2400 + 7875 per quarter.
    # "boom": gmv 600000/240000 = 2.5 -> 13500; ROAS 2 -> 0.5 -> 1800: 2400 + 15300 per quarter.
    assert fees(result) == [
        [("M", 500, 1500, 2000, 0.04), ("Q", 800, 2625, 3425, 3425 / 50000)],
        [("M", 500, 3000, 3500, 0.035), ("Q", 800, 3150, 3950, 0.0395)],
        [("M", 500, 6000, 6500, 0.0325), ("Q", 800, 5100, 5900, 0.0295)],
    ]
    assert [s.cheapest for s in result.scenarios] == [("M",), ("M",), ("Q",)]
    assert [s.outcome for s in result.scenarios] == [o.values for o in OUTCOMES]
    # Between plan (gmv 100000) and boom (200000) Q − M goes from +450 to −600: 3/7 of the way.
    (crossing,) = result.crossings
    assert (crossing.before, crossing.after, crossing.first, crossing.second) == (
        "plan",
        "boom",
        "M",
        "Q",
    )
    assert crossing.revenue == pytest.approx(100000 + 100000 * 3 / 7)
    assert crossing.total == pytest.approx(3500 + 3000 * 3 / 7)
    assert result.to_dict() == {
        "currency": "USD",
        "basis": "per_month_over_term",
        "scenarios": [
            {
                "name": s.name,
                "outcome": dict(s.outcome),
                "fees": [
                    {
                        "contract": f.contract,
                        "base": f.base,
                        "bonus": f.bonus,
                        "total": f.total,
                        "share_of_revenue": f.share_of_revenue,
                    }
                    for f in s.fees
                ],
                "cheapest": list(s.cheapest),
            }
            for s in result.scenarios
        ],
    }


def test_a_ramp_counts_over_the_whole_term() -> None:
    ramped = quote(
        "RAMP", periods=4, kpis=[{"code": "gmv", "weight": 1, "target": 100000, "ramp": [0.5, 0.8]}]
    )
    flat = quote("FLAT", periods=4)
    result = compare([ramped, flat], [outcome("plan", gmv=100000)])
    # Ramped targets 50000, 80000, 100000, 100000: a = 2, 1.25, 1, 1 -> 4000 + 2500 + 2000 +
    # 2000 = 10500 over 4 months = 2625 a month; the flat quote pays 2000 a month.
    assert fees(result) == [[("RAMP", 1000, 2625, 3625, 0.03625), ("FLAT", 1000, 2000, 3000, 0.03)]]
    assert result.scenarios[0].cheapest == ("FLAT",)


def test_a_binding_contract_cap() -> None:
    capped = quote("CAP", fee={"base": 1000, "pool": 2000, "contract_cap": 5000})
    period_capped = quote("PCAP", fee={"base": 1000, "pool": 2000, "period_cap": 2500})
    result = compare([capped, period_capped], [outcome("strong", gmv=150000)])
    # a = 1.5 -> 3000 a period. CAP pays 3000, then the 2000 left of 5000, then 0: 5000 / 3 =
    # 1666.67; totals 4000 + 3000 + 1000 = 8000 / 3 = 2666.67. PCAP pays 2500 each period.
    assert fees(result) == [
        [
            ("CAP", 1000, 1666.67, 2666.67, 2666.67 / 150000),
            ("PCAP", 1000, 2500, 3500, 3500 / 150000),
        ]
    ]
    assert result.scenarios[0].cheapest == ("CAP",)


def test_cumulative_settlement_trues_up() -> None:
    kpis = [{"code": "gmv", "weight": 1, "target": [100000, 100000, 200000], "threshold": 0.8}]
    cumulative = quote("CUM", settlement="cumulative", kpis=kpis)
    per_period = quote("PER", kpis=kpis)
    result = compare([cumulative, per_period], [outcome("steady", gmv=120000)])
    # CUM: to date 120000/100000, 240000/200000, 360000/400000 = 1.2, 1.2, 0.9 on pools 2000,
    # 4000, 6000 -> 2400, 4800, 5400 to date: bonuses 2400, 2400, 600 = 5400 -> 1800 a month.
    # PER: 1.2, 1.2, then 0.6 below the 0.8 threshold: 2400 + 2400 + 0 = 4800 -> 1600 a month.
    assert fees(result) == [
        [("CUM", 1000, 1800, 2800, 2800 / 120000), ("PER", 1000, 1600, 2600, 2600 / 120000)]
    ]
    assert result.scenarios[0].cheapest == ("PER",)


def test_ties_list_every_cheapest_quote_and_no_crossing() -> None:
    result = compare([quote("A"), quote("B")], OUTCOMES)
    assert all(s.cheapest == ("A", "B") for s in result.scenarios)
    assert result.crossings == ()


def test_a_zero_denominator_attains_nothing() -> None:
    kpis = [
        {"code": "gmv", "weight": 0.5, "target": 100000},
        {
            "code": "roas",
            "unit": "ratio",
            "weight": 0.5,
            "target": 4,
            "ratio": ["ad_sales", "ad_spend"],
        },
    ]
    fee = monthly_fee(
        quote("Z", kpis=kpis), "Z", (("gmv", 100000.0), ("ad_sales", 0.0), ("ad_spend", 0.0))
    )
    assert (fee.base, fee.bonus, fee.total) == (1000, 1000, 2000)


def test_default_outcomes_are_the_first_quotes_levels(spec_contract: Contract) -> None:
    outcomes, notes = level_outcomes(spec_contract)
    assert [o.name for o in outcomes] == ["0%", "50%", "80%", "100%", "120%", "150%"]
    at_100 = dict(outcomes[3].values)
    # Period 1 of the SPEC contract: gmv target 300000 · ramp 0.6; TACoS 0.10 fixes ad_spend,
    # ROAS 3 then fixes ad_sales; guardrails at their bounds; min person-days.
    assert at_100 == {
        "gmv": 180000,
        "ad_sales": 54000,
        "ad_spend": 18000,
        "gross_margin": 0.25,
        "return_rate": 0.08,
        "person_days": 20,
    }
    assert notes == []


def test_default_outcomes_of_a_quarterly_quote_are_monthly() -> None:
    values, _ = level_columns(QUARTERLY, 1.0)
    outcomes, notes = level_outcomes(QUARTERLY)
    monthly = dict(outcomes[3].values)
    assert values["gmv"] == 240000 and monthly["gmv"] == 80000
    # ROAS has no column fixed by another KPI: ad_sales is set to the gmv outcome.
    assert monthly["ad_sales"] == 80000 and monthly["ad_spend"] == 20000
    assert len(notes) == 1 and "ad_sales / ad_spend" in notes[0]


def test_missing_column_is_refused_naming_quote_and_column(spec_contract: Contract) -> None:
    with pytest.raises(ContractError) as caught:
        compare([MONTHLY, spec_contract], [outcome("plan", gmv=1)])
    text = str(caught.value)
    assert "KX126" in text and "ACME-AMZ-US-2027" in text and "'ad_spend'" in text
    assert "--outcomes" in text


def test_other_currencies_and_a_single_quote_are_refused() -> None:
    with pytest.raises(ContractError, match="different currencies"):
        compare([MONTHLY, quote("EUR", currency="EUR")], OUTCOMES)
    with pytest.raises(ContractError, match="KX126"):
        compare([MONTHLY], OUTCOMES)


def test_negative_outcome_is_refused() -> None:
    with pytest.raises(ContractError, match="KX128.*negative"):
        compare([MONTHLY, QUARTERLY], [outcome("x", gmv=-5, ad_sales=1, ad_spend=1)])


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (["name", "gmv"], [["a", "1"]], "no 'scenario' column"),
        (["scenario"], [["a"]], "no metric columns"),
        (["scenario", "gmv"], [["a", "x"]], "line 2, column gmv: KX128 is not a number"),
        (["scenario", "gmv"], [["a", "1"], ["a", "2"]], "line 3: KX128 scenario 'a' appears twice"),
        (["scenario", "gmv"], [["", "1"]], "line 2, column scenario: KX128 is empty"),
    ],
)
def test_bad_outcomes_files(header: list[str], rows: list[list[str]], message: str) -> None:
    with pytest.raises(ContractError, match=message):
        outcomes_from_rows(header, rows, "o.csv")


outcome_values = st.integers(min_value=1, max_value=40_000)


@settings(max_examples=40, deadline=None)
@given(
    data=contract_data(),
    quarterly=st.booleans(),
    values=st.lists(outcome_values, min_size=5, max_size=5),
)
def test_a_quote_compared_with_itself_costs_the_same(
    data: dict[str, Any], quarterly: bool, values: list[int]
) -> None:
    if quarterly:
        data["period"] = "quarter"
    first = build(data)
    second = build({**data, "id": "PROP-2"})
    columns = [kpi["metric"] for kpi in data["kpis"]] + ["g0"]
    given_outcome = Outcome("o", tuple(zip(columns, values, strict=False)))
    result = compare([first, second], [given_outcome])
    a, b = result.scenarios[0].fees
    assert (a.base, a.bonus, a.total, a.share_of_revenue) == (
        b.base,
        b.bonus,
        b.total,
        b.share_of_revenue,
    )
    assert result.scenarios[0].cheapest == ("PROP-1", "PROP-2")


@settings(max_examples=40, deadline=None)
@given(
    data=contract_data(settlement="period", caps=False),
    quarterly=st.booleans(),
    level=st.sampled_from(DEFAULT_LEVELS),
)
def test_own_level_outcome_prices_like_scenarios(
    data: dict[str, Any], quarterly: bool, level: float
) -> None:
    if quarterly:
        data["period"] = "quarter"
    data["fee"]["period_cap"] = 30_000
    contract = build(data)
    outcomes, _ = level_outcomes(contract)
    own = outcomes[list(DEFAULT_LEVELS).index(level)]
    fee = compare([contract, build({**data, "id": "PROP-2"})], [own]).scenarios[0].fees[0]
    (row,) = scenarios(contract, [level])
    months = 3 if quarterly else 1
    assert fee.total == excel_round(row.total / months, contract.decimals)
    assert fee.base == excel_round(row.base / months, contract.decimals)
    assert fee.bonus == excel_round(row.bonus / months, contract.decimals)


@pytest.mark.parametrize("level", DEFAULT_LEVELS)
def test_example_quotes_own_levels_price_like_scenarios(level: float) -> None:
    from kpixl.model import load_contract
    from tests.conftest import EXAMPLES

    # GlowLab without its staged targets and contract cap; its cumulative settlement stays.
    glow = load_contract(EXAMPLES / "tiktok-us-beauty.yaml")
    kpis = tuple(
        k.model_copy(update={"target": 900000}) if k.code == "gmv" else k for k in glow.kpis
    )
    flat = glow.model_copy(
        update={
            "kpis": kpis,
            "fee": glow.fee.model_copy(update={"contract_cap": None}),
            "settlement": "period",
        }
    )
    outcomes, _ = level_outcomes(flat)
    own = outcomes[list(DEFAULT_LEVELS).index(level)]
    fee = compare([flat, flat.model_copy(update={"id": "COPY"})], [own]).scenarios[0].fees[0]
    (row,) = scenarios(flat, [level])
    assert fee.total == excel_round(row.total / 3, 2)


@settings(max_examples=60, deadline=None)
@given(
    points=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=10**6),
            st.integers(min_value=0, max_value=10**5),
            st.integers(min_value=0, max_value=10**5),
        ),
        min_size=2,
        max_size=8,
        unique_by=lambda p: p[0],
    )
)
def test_crossings_lie_between_their_two_outcomes(points: list[tuple[int, int, int]]) -> None:
    rows = []
    for revenue, a, b in points:
        fees = (Fee("A", 0, a, a, None), Fee("B", 0, b, b, None))
        cheapest = tuple(f.contract for f in fees if f.total == min(a, b))
        rows.append(ScenarioComparison(f"r{revenue}", (("gmv", float(revenue)),), fees, cheapest))
    ordered = sorted(points)
    changes = sum(
        1
        for (_, a0, b0), (_, a1, b1) in zip(ordered, ordered[1:], strict=False)
        if a0 != b0 and a1 != b1 and (a0 < b0) != (a1 < b1)
    )
    crossings = crossings_of(rows, "gmv")
    assert len(crossings) == changes
    for c in crossings:
        r0, r1 = (dict(r.outcome)["gmv"] for r in rows if r.name in (c.before, c.after))
        assert min(r0, r1) <= c.revenue <= max(r0, r1)
        assert {c.first, c.second} == {"A", "B"}
