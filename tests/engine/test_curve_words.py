"""A KPI's payout curve in words and as points (kpixl.engine.curve_words)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpixl.engine.curve_words import (
    curve_points,
    describe_curve,
    kpi_factor,
    percent,
    point_count,
    times,
)
from kpixl.model import Contract, Kpi


def kpi(**fields: object) -> Kpi:
    return Kpi.model_validate({"code": "gmv", "weight": 1.0, "target": 100.0, **fields})


def test_words_of_the_spec_kpis(spec_contract: Contract) -> None:
    gmv, roas, tacos = spec_contract.kpis
    assert describe_curve(gmv) == (
        "below 80 % nothing; marginal: 1× per point 0 %-100 %, 1.5× per point above 100 %; "
        "100 % pays the full share; capped at 150 % (1.75×)"
    )
    assert describe_curve(roas) == (
        "steps: from 80 % 0.5×, from 100 % 1×, from 120 % 1.3×; 100 % pays the full share; "
        "at most 1.3×"
    )
    assert describe_curve(tacos) == (
        "straight line through 90 % → 0.5×, 100 % → 1×, 120 % → 1.4×; 0 below 90 %; "
        "100 % pays the full share; factor capped at 1.4×"
    )
    assert describe_curve(gmv, "zh").startswith("低于80 %不支付；累进：")
    assert describe_curve(roas, "zh").endswith("最高1.3×")


def test_words_without_a_curve_and_off_target() -> None:
    assert describe_curve(kpi()) == "factor = attainment; 100 % pays the full share; no cap"
    stepped = kpi(curve={"mode": "stepped", "tiers": [{"from": 0.9, "rate": 0.8}]}, factor_cap=0.7)
    assert describe_curve(stepped) == (
        "steps: from 90 % 0.8×; 100 % pays 0.7×; factor capped at 0.7×"
    )


@pytest.mark.parametrize(
    ("value", "text"), [(0.8, "80 %"), (1.025, "102.5 %"), (1 / 3, "33.33 %"), (0.0, "0 %")]
)
def test_percent(value: float, text: str) -> None:
    assert percent(value) == text


def test_times() -> None:
    assert (times(1.0), times(1.75), times(0.12345)) == ("1×", "1.75×", "0.1235×")


def test_points_show_the_step_the_slope_and_the_cap(spec_contract: Contract) -> None:
    gmv, roas, _tacos = spec_contract.kpis
    points = dict(curve_points(roas))
    assert points[0.799999999] == 0.0 and points[0.8] == 0.5  # the step at the threshold
    assert points[1.6] == 1.3  # flat after the last step
    gmv_points = curve_points(gmv)
    assert dict(gmv_points)[1.5] == 1.75 and gmv_points[-1] == (1.6, 1.75)  # capped at 150 %
    assert dict(gmv_points)[1.25] == pytest.approx(1.375)  # the 1.5× slope above 100 %
    for k in spec_contract.kpis:
        assert len(curve_points(k)) == point_count(k)
        xs = [x for x, _f in curve_points(k)]
        assert xs == sorted(xs) and xs[0] == 0.0 and xs[-1] >= 1.6


@given(st.floats(0, 3), st.floats(0.1, 2))
def test_points_follow_the_engine_factor(a: float, cap: float) -> None:
    capped = kpi(
        attainment_cap=cap,
        curve={"mode": "marginal", "tiers": [{"from": 0, "rate": 1}, {"from": 1, "rate": 2}]},
    )
    for x, f in curve_points(capped):
        assert f == pytest.approx(kpi_factor(capped, x), abs=1e-9)
    assert kpi_factor(capped, a) == kpi_factor(capped, min(a, cap))
