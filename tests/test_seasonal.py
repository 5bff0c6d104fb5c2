"""Seasonal targets (SPEC §12): the same month last year from 12+ months, or a profile."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kpixl.actuals import Actuals, Cell
from kpixl.cli import app
from kpixl.model import contract_from_data, load_contract
from kpixl.seasonal import (
    TOLERANCE,
    SeasonalityError,
    profile_path,
    read_seasonality,
    seasonality_from_text,
)
from kpixl.templates import (
    TEMPLATES_DIR,
    TemplateError,
    contract_yaml,
    init_from_history,
    load_template,
)
from tests.test_templates import HEADER

runner = CliRunner()
# A strongly seasonal year: December is 3.5 times February.
SEASON = [0.8, 0.6, 0.9, 0.9, 1.0, 1.0, 1.3, 1.0, 0.9, 1.0, 1.5, 2.1]
MONTHS_18 = [(2025, m) for m in range(7, 13)] + [(2026, m) for m in range(1, 13)]
MONTHS_6 = [(2026, m) for m in range(7, 13)]


def row(year: int, month: int, old: bool = False) -> list[Cell]:
    """One month of history; ``old`` months (more than 12 back) are wildly off on purpose."""
    s = SEASON[month - 1] * (10 if old else 1)
    gmv = 100000 * s
    return [
        f"{year}-{month:02d}",
        gmv,
        gmv * 0.1 * (2 + s),  # ad_sales: ROAS 2 + s moves with the season
        gmv * 0.1,
        gmv / 50,
        gmv * 40 / s,  # visitors: conversion moves with the season
        4.0 + month / 20,  # shop_rating, a mean KPI
        gmv * 0.2 * s,
        gmv * 0.3 * s,
        gmv,
        gmv / 200 * s,
        gmv * 0.2 / s,  # marketing_spend: CAC falls in peak months
        gmv / 250,
    ]


def history(months: list[tuple[int, int]]) -> Actuals:
    first_year = months[-1][0] - 1
    rows = [row(y, m, old=(y, m) <= (first_year, months[-1][1])) for y, m in months]
    return Actuals.from_rows(HEADER, rows, "history.csv")


def by_month(months: list[tuple[int, int]]) -> dict[int, dict[str, float]]:
    """The last 12 months' cells by calendar month, as the test computes them itself."""
    table = history(months)
    last = {}
    for r in table.rows[-12:]:
        month = int(str(r.period)[5:7])
        last[month] = {k: float(v) for k, v in r.cells.items() if isinstance(v, int | float)}
    return last


def expected(tkpi: Any, cells: list[dict[str, float]], growth: float) -> tuple[float, float]:
    """(value moved by g, round_to) for a KPI over some months, computed by hand."""
    extra = tkpi.model_extra
    rule = tkpi.target_from_history
    ratio = rule.ratio or extra.get("ratio")
    if ratio:
        value = sum(c[ratio[0]] for c in cells) / sum(c[ratio[1]] for c in cells)
    elif extra.get("unit") in ("currency", "count"):
        value = sum(c[rule.metric or extra.get("metric") or tkpi.code] for c in cells)
    else:
        value = sum(c[tkpi.code] for c in cells) / len(cells)
    g = (growth if rule.growth else 0) + rule.change
    moved = value * (1 - g if extra.get("direction") == "lower" else 1 + g)
    return moved, rule.round_to


def within_rounding(target: float, moved: float, round_to: float) -> bool:
    multiple = abs(target / round_to - round(target / round_to)) < 1e-6
    return multiple and abs(target - moved) <= round_to / 2 + 1e-9 * abs(moved)


TEMPLATES = sorted(p.stem for p in TEMPLATES_DIR.glob("*.yaml"))


@pytest.mark.parametrize("name", TEMPLATES)
def test_twelve_months_of_history_set_each_period_from_the_same_month(name: str) -> None:
    growth = 0.2
    result = init_from_history(name, history(MONTHS_18), growth)
    contract = contract_from_data(result.data, "drafted.yaml")
    spec = load_template(TEMPLATES_DIR / f"{name}.yaml")
    last = by_month(MONTHS_18)
    assert contract.start.isoformat() == "2027-01-01"
    for k, tkpi in enumerate(spec.kpis):
        targets = contract.kpis[k].target
        assert isinstance(targets, tuple) and len(targets) == contract.periods
        for p, target in enumerate(targets):
            if contract.period == "quarter":
                calendar = [3 * p + 1, 3 * p + 2, 3 * p + 3]
            else:
                calendar = [p % 12 + 1]
            moved, round_to = expected(tkpi, [last[m] for m in calendar], growth)
            assert within_rounding(target, moved, round_to), (tkpi.code, p, target, moved)
    # The season shows: the sum KPI's best period target is well above its worst.
    first = contract.kpis[0].target
    assert isinstance(first, tuple) and max(first) > 1.5 * min(first)
    header = contract_yaml(result, name)
    label = (
        "2027-Q1 from 2026-01, 2026-02, 2026-03"
        if contract.period == "quarter"
        else "2027-01 from 2026-01"
    )
    assert f"#   {label}: " in header


def test_quarter_sum_ratio_and_mean_by_hand() -> None:
    data = init_from_history("shopify-dtc-pet", history(MONTHS_18), growth=0.1).data
    # Q1 2027 from Jan-Mar 2026: net_sales = 100000 · (0.8 + 0.6 + 0.9) = 230000 · 1.1 = 253000.
    net_sales, repeat_rate, cac = (k["target"] for k in data["kpis"])
    assert net_sales[0] == 253000
    # repeat_rate = Σ(gmv/200·s) / Σ(gmv/50) = Σ s² / (4 Σ s) over Jan-Mar, · 1.05, to 0.005.
    s = SEASON[:3]
    value = sum(x * x for x in s) / (4 * sum(s)) * 1.05
    assert repeat_rate[0] == pytest.approx(round(value / 0.005) * 0.005)
    # cac (lower) = Σ(0.2·gmv/s) / Σ(gmv/250) = 50 · 3 / Σ s · 0.95, to 0.5.
    assert cac[0] == pytest.approx(round(50 * 3 / sum(s) * 0.95 / 0.5) * 0.5)


def test_six_months_with_a_profile_spread_sum_kpis_only(tmp_path: Path) -> None:
    profile = read_seasonality("amazon-us-home")
    flat = init_from_history("amazon-us-home", history(MONTHS_6), 0.2).data
    seasonal = init_from_history("amazon-us-home", history(MONTHS_6), 0.2, seasonality=profile)
    gmv, roas, tacos = (k["target"] for k in seasonal.data["kpis"])
    flat_gmv, flat_roas, flat_tacos = (k["target"] for k in flat["kpis"])
    # The flat gmv target before rounding: mean of the six months · 1.2.
    moved = sum(100000 * SEASON[m - 1] for _, m in MONTHS_6) / 6 * 1.2
    assert len(gmv) == 12
    for p, target in enumerate(gmv):
        assert within_rounding(target, moved * profile.indices[p], 1000)
    assert within_rounding(flat_gmv, moved, 1000)
    assert roas == [flat_roas] * 12 and tacos == [flat_tacos] * 12
    header = contract_yaml(seasonal, "amazon-us-home")
    assert "2027-12 (Dec, index 1.35" in header and "roas" in header
    contract_from_data(seasonal.data, "drafted.yaml")


def test_quarterly_profile_uses_the_mean_of_the_quarters_months() -> None:
    profile = read_seasonality("shopify-dtc-pet")
    result = init_from_history("shopify-dtc-pet", history(MONTHS_6), 0.1, seasonality=profile)
    net_sales, repeat_rate, cac = (k["target"] for k in result.data["kpis"])
    flat = init_from_history("shopify-dtc-pet", history(MONTHS_6), 0.1).data
    moved = sum(100000 * SEASON[m - 1] for _, m in MONTHS_6) / 6 * 3 * 1.1
    for q, target in enumerate(net_sales):
        index = math.fsum(profile.indices[3 * q : 3 * q + 3]) / 3
        assert within_rounding(target, moved * index, 1000)
    assert repeat_rate == [flat["kpis"][1]["target"]] * 4
    assert cac == [flat["kpis"][2]["target"]] * 4


def test_twelve_months_make_a_profile_unnecessary() -> None:
    profile = read_seasonality("amazon-us-home")
    with_profile = init_from_history("amazon-us-home", history(MONTHS_18), seasonality=profile)
    without = init_from_history("amazon-us-home", history(MONTHS_18))
    assert with_profile.data == without.data
    assert any("not used" in note for note in with_profile.notes)


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_ships_a_sample_profile(name: str) -> None:
    path = profile_path(name)
    assert path.parent == TEMPLATES_DIR and "SAMPLE" in path.read_text("utf-8")
    profile = read_seasonality(name)
    assert len(profile.indices) == 12
    assert abs(math.fsum(profile.indices) / 12 - 1) <= TOLERANCE


GOOD = "month,index\n" + "".join(f"{m},1\n" for m in range(1, 13))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mon,idx\n1,1\n", "line 1: KX134 the header must be 'month,index'"),
        (GOOD.replace("12,1\n", "13,1\n"), "line 13: KX134 month must be a whole number 1..12"),
        (
            GOOD.replace("12,1\n", "11,1\n"),
            "line 13: KX134 month 11 appears twice \\(also line 12\\)",
        ),
        (GOOD.replace("3,1\n", "3,abc\n"), "line 4: KX134 index is not a number"),
        (GOOD.replace("3,1\n", "3,0\n"), "line 4: KX134 index must be > 0"),
        (GOOD.replace("3,1\n", "3,1,2\n"), "line 4: KX134 expected 2 cells"),
        (GOOD.replace("12,1\n", ""), "KX134 needs 12 months, one row each; missing 12"),
        (GOOD.replace("12,1\n", "12,2\n"), "KX134 the 12 indices average 1.08333"),
        ("", "KX134 the file is empty"),
    ],
)
def test_bad_profiles_are_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(SeasonalityError, match=message):
        seasonality_from_text(text, "p.csv")


def test_profile_within_tolerance_is_accepted() -> None:
    text = GOOD.replace("12,1\n", "12,1.05\n")  # mean 1.00417
    assert seasonality_from_text(text, "p.csv").indices[11] == 1.05


def write_history(path: Path, months: list[tuple[int, int]]) -> str:
    table = history(months)
    lines = [",".join(HEADER)] + [
        ",".join([str(r.period), *(str(r.cells[h]) for h in HEADER[1:])]) for r in table.rows
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return str(path)


def test_cli_init_with_a_profile_and_a_bad_one(tmp_path: Path) -> None:
    hist = write_history(tmp_path / "h.csv", MONTHS_6)
    out = tmp_path / "c.yaml"
    args = ["init", "--template", "amazon-us-home", "--history", hist, "-o", str(out)]
    result = runner.invoke(app, [*args, "--seasonality", "amazon-us-home"])
    assert result.exit_code == 0, result.output
    contract = load_contract(out)
    assert isinstance(contract.kpis[0].target, tuple) and len(contract.kpis[0].target) == 12
    assert "# Targets per period, and where each came from:" in out.read_text("utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD.replace("5,1\n", "5,x\n"), "utf-8")
    out.unlink()
    result = runner.invoke(app, [*args, "--seasonality", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: line 6: KX134 index is not a number" in result.stderr
    assert not out.exists()


def test_a_gap_in_the_last_twelve_months_is_named() -> None:
    months = [ym for ym in MONTHS_18 if ym != (2026, 3)]
    with pytest.raises(TemplateError, match="2026-03 is missing"):
        init_from_history("amazon-us-home", history(months))
