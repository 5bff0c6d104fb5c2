"""SPEC §5 worked example: every number printed there, both settlement modes."""

from __future__ import annotations

import pytest

from kpixl.actuals import Actuals
from kpixl.engine.settle import settle
from kpixl.model import Contract

# p: ((a, f, payout) for gmv, roas, tacos), W, m, bonus, base, total, exit_eligible
EXPECTED = {
    1: (((1.1111, 1.1667, 12250.00), (1.0333, 1.0, 6300.00), (1.0, 1.0, 4200.00)),
        1.0656, 1, 22750.00, 9000.00, 31750.00, False),
    2: (((1.125, 1.1875, 12468.75), (1.2333, 1.3, 8190.00), (1.0741, 1.1481, 4822.22)),
        1.1473, 0.5, 12740.49, 9000.00, 21740.49, False),
    3: (((1.1, 1.15, 12075.00), (0.8333, 0.5, 3150.00), (1.0909, 1.1818, 4963.64)),
        1.0182, 0, 0.00, 8100.00, 8100.00, False),
    4: (((0.5, 0, 0.00), (0.6333, 0, 0.00), (0.6667, 0, 0.00)),
        0.5733, 1, 0.00, 9000.00, 9000.00, False),
    5: (((0.6, 0, 0.00), (0.6667, 0, 0.00), (0.8889, 0, 0.00)),
        0.6778, 1, 0.00, 9000.00, 9000.00, True),
    6: (((1.5, 1.75, 18375.00), (1.3, 1.3, 8190.00), (1.1667, 1.3333, 5600.00)),
        1.3733, 1, 31500.00, 9000.00, 40500.00, False),
}  # fmt: skip


@pytest.mark.parametrize("p", sorted(EXPECTED))
def test_period_settlement_matches_the_spec_table(
    spec_contract: Contract, spec_actuals: Actuals, p: int
) -> None:
    kpis, w, m, bonus, base, total, exit_eligible = EXPECTED[p]
    result = settle(spec_contract, spec_actuals).periods[p - 1]
    assert result.index == p
    assert result.period == f"2027-{p:02d}"
    for got, (a, f, payout) in zip(result.kpis, kpis, strict=True):
        assert round(got.attainment, 4) == a
        assert round(got.factor, 4) == f
        assert got.payout == payout
    assert round(result.weighted_attainment, 4) == w
    assert result.guardrail_multiplier == m
    assert (result.bonus, result.base, result.total) == (bonus, base, total)
    assert result.exit_eligible is exit_eligible


def test_period_settlement_misses_caps_and_totals(
    spec_contract: Contract, spec_actuals: Actuals
) -> None:
    result = settle(spec_contract, spec_actuals)
    assert [p.miss for p in result.periods] == [False, False, False, True, True, False]
    assert result.periods[5].bonus_before_caps == 32165.00  # "capped from 32165.00"
    assert [p.cumulative_bonus for p in result.periods] == [
        22750.00, 35490.49, 35490.49, 35490.49, 35490.49, 66990.49,
    ]  # fmt: skip
    totals = result.totals
    assert (totals.base, totals.bonus, totals.total) == (53100.00, 66990.49, 120090.49)


def test_cumulative_settlement_matches_the_spec(
    spec_contract: Contract, spec_actuals: Actuals
) -> None:
    contract = spec_contract.model_copy(update={"settlement": "cumulative"})
    result = settle(contract, spec_actuals)
    assert [p.bonus for p in result.periods] == [
        22750.00, 23714.89, 23360.11, 0.00, 10009.77, 28754.60,
    ]  # fmt: skip
    assert result.totals.bonus == 108589.37
    assert result.totals.base == 53100.00
    assert result.totals.total == 161689.37
    # The exit clause looks at each period's own attainment, in cumulative settlement too.
    assert [p.exit_eligible for p in result.periods] == [False] * 4 + [True, False]


def test_json_document_has_the_spec_shape(spec_contract: Contract, spec_actuals: Actuals) -> None:
    document = settle(spec_contract, spec_actuals).to_dict()
    assert list(document) == ["contract", "currency", "periods", "totals"]
    assert document["contract"] == "ACME-AMZ-US-2027"
    assert document["currency"] == "USD"
    period = document["periods"][1]
    assert list(period) == [
        "index", "period", "kpis", "weighted_attainment", "guardrail_multiplier", "bonus",
        "base", "total", "miss", "exit_eligible", "cumulative_bonus",
    ]  # fmt: skip
    assert period["kpis"][2] == {
        "code": "tacos",
        "actual": 25000 / 270000,
        "target": 0.10,
        "attainment": pytest.approx(1.0740740740740742, abs=1e-15),
        "factor": pytest.approx(1.1481481481481481, abs=1e-15),
        "payout": 4822.22,
    }
    assert period["kpis"][0]["target"] == 240000.0  # ramp 0.8 on 300000
    assert document["totals"] == {"base": 53100.00, "bonus": 66990.49, "total": 120090.49}


def test_frame_has_one_row_per_period_and_kpi(
    spec_contract: Contract, spec_actuals: Actuals
) -> None:
    frame = settle(spec_contract, spec_actuals).to_frame()
    assert len(frame) == 18
    # Payouts before guardrails and caps: 22750 + 25480.97 + 20188.64 + 0 + 0 + 32165.
    assert frame["payout"].sum() == pytest.approx(100584.61, abs=1e-6)
    row = frame[(frame["period"] == "2027-06") & (frame["kpi"] == "gmv")].iloc[0]
    assert (row["payout"], row["bonus"], row["total"]) == (18375.00, 31500.00, 40500.00)


def test_no_actuals_yet_settles_nothing(spec_contract: Contract) -> None:
    from kpixl.actuals import Actuals

    header = ["period", "gmv", "ad_sales", "ad_spend", "gross_margin", "return_rate", "person_days"]
    empty = Actuals.from_rows(header, [["2027-01", *[None] * 6]], "empty.csv")
    for settlement in ("period", "cumulative"):
        contract = spec_contract.model_copy(update={"settlement": settlement})
        result = settle(contract, empty)
        assert result.periods == ()
        assert result.to_dict()["totals"] == {"base": 0.0, "bonus": 0.0, "total": 0.0}
        assert len(result.to_frame()) == 0
