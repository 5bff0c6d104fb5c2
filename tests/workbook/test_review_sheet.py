"""The Review sheet, evaluated headlessly in both formula modes, equals the engine's review."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpixl.actuals import Actuals, Adjustments, read_actuals, read_adjustments
from kpixl.engine.review import Review, review
from kpixl.engine.settle import settle
from kpixl.model import Contract, load_contract
from kpixl.workbook.build import build_workbook
from kpixl.workbook.evaluate import evaluate_workbook
from kpixl.workbook.layout import REVIEW, Layout, Mode
from kpixl.workbook.patch import patch_cached_values
from kpixl.workbook.recalc import recalc
from kpixl.workbook.review_sheet import ReviewLayout, formula_refs, review_cells, review_values
from kpixl.workbook.template import template_schema
from kpixl.workbook.validate import validate_workbook
from tests.conftest import EXAMPLES
from tests.strategies import actuals_for, build, contract_data
from tests.workbook.contracts import case
from tests.workbook.test_parity import parity_values

NAMES = ("acme-amz-us", "shopee-vn-fashion", "tiktok-us-beauty", "internal-team-plan")


def example(name: str) -> tuple[Contract, Actuals, Adjustments | None]:
    """A bundled example: contract, actuals and adjustments (when it has them)."""
    adjustments = EXAMPLES / f"{name}.adjustments.csv"
    return (
        load_contract(EXAMPLES / f"{name}.yaml"),
        read_actuals(EXAMPLES / f"{name}.actuals.csv"),
        read_adjustments(adjustments) if adjustments.exists() else None,
    )


def close(found: Any, expected: float | bool | None, money: bool) -> bool:
    """Money to the cent, ratios and counts to 1e-9; None is a blank cell."""
    if expected is None:
        return found in (None, "")
    if not isinstance(found, int | float) or isinstance(found, bool):
        return False
    tolerance = 0.005 if money else 1e-9 * max(1.0, abs(float(expected)))
    return abs(found - float(expected)) <= tolerance


def expected_figures(  # noqa: C901
    contract: Contract, figures: Review, indices: tuple[int, ...]
) -> list[tuple[str, float | bool | None, bool]]:
    """(Review address, the engine's figure, whether it is money) for every figure."""
    at = ReviewLayout(Layout(contract))
    out: list[tuple[str, float | bool | None, bool]] = [
        (at.header("settled"), len(figures.periods), False),
        (at.header("periods"), figures.periods_in_contract, False),
    ]
    for i, p in enumerate(indices):
        out.append((at.settled(p), i + 1, False))
        for k, kpi in enumerate(figures.kpis):
            out.append((at.attainment(p, k), kpi.attainment[i], False))
        row = figures.fee.periods[i]
        assert row.period == contract.period_label(p)
        out += [
            (at.period_cell(p, "base"), row.base, True),
            (at.period_cell(p, "bonus"), row.bonus, True),
            (at.period_cell(p, "total"), row.total, True),
            (at.period_cell(p, "revenue"), row.revenue, False),
            (at.period_cell(p, "fee_share"), row.fee_share_of_revenue, False),
            (at.period_cell(p, "growth"), row.revenue_growth, False),
            (at.period_cell(p, "over_baseline"), row.revenue_over_baseline, False),
        ]
    for p in range(1, contract.periods + 1):
        if p not in indices:
            out += [(at.settled(p), None, False), (at.period_cell(p, "total"), None, True)]
            out += [(at.attainment(p, k), None, False) for k in range(len(contract.kpis))]
    for k, kpi in enumerate(figures.kpis):
        out += [
            (at.kpi_cell(k, "at_target"), kpi.at_or_above_target, False),
            (at.kpi_cell(k, "below"), kpi.below_threshold, False),
            (at.kpi_cell(k, "first"), kpi.first_half_attainment, False),
            (at.kpi_cell(k, "second"), kpi.second_half_attainment, False),
        ]
    fee = figures.fee
    out += [
        (at.fee("base"), fee.base, True),
        (at.fee("bonus"), fee.bonus, True),
        (at.fee("total"), fee.total, True),
        (at.fee("pool"), fee.pool, True),
        (at.fee("bonus_share"), fee.bonus_share_of_pool, False),
        (at.fee("revenue"), fee.revenue, False),
        (at.fee("fee_share"), fee.fee_share_of_revenue, False),
        (at.fee("growth"), fee.revenue_growth, False),
    ]
    clause = figures.exit
    for key in ("threshold", "consecutive", "misses", "longest", "exit_now"):
        value = None
        if clause is not None:
            value = {
                "threshold": clause.threshold,
                "consecutive": clause.consecutive,
                "misses": clause.misses,
                "longest": clause.longest_streak,
                "exit_now": clause.exit_eligible_now,
            }[key]
        out.append((at.exit(key), value, False))
    adjustments = figures.adjustments
    out.append((at.adjustment_count, adjustments.count, False))
    by_metric = {entry.metric: entry for entry in adjustments.by_metric}
    for m, metric in enumerate(Layout(contract).metrics):
        entry = by_metric.get(metric)
        out.append((at.adjustment_cell(m, "count"), entry.count if entry else 0, False))
        out.append((at.adjustment_cell(m, "net"), entry.net_change if entry else 0.0, False))
    return out


def assert_review(
    contract: Contract,
    actuals: Actuals,
    adjustments: Adjustments | None,
    value_at: Callable[[str], Any],
    where: str,
) -> None:
    """The Review cells (read by ``value_at(A1)``) hold the engine's review of the settlement."""
    result = settle(contract, actuals, adjustments)
    figures = review(contract, result)
    indices = tuple(p.index for p in result.periods)
    for ref, want, money in expected_figures(contract, figures, indices):
        found = value_at(ref.replace("$", ""))
        assert close(found, want, money), (where, ref, found, want)


def check_review(
    contract: Contract,
    actuals: Actuals,
    adjustments: Adjustments | None,
    mode: Mode,
    out: Path,
) -> None:
    """Every formula cell = its cache (check_parity); the Review's cells = the engine's review."""
    evaluated = parity_values(contract, actuals, adjustments, mode, out)
    assert_review(contract, actuals, adjustments, lambda ref: evaluated[f"{REVIEW}!{ref}"], mode)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "udf"])
@pytest.mark.parametrize("name", NAMES)
def test_bundled_examples_review_equals_the_engine(name: str, mode: Mode, tmp_path: Path) -> None:
    contract, actuals, adjustments = example(name)
    check_review(contract, actuals, adjustments, mode, tmp_path / f"{name}.xlsx")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "udf"])
@pytest.mark.parametrize("i", [0, 3, 5, 8, 11])
def test_generated_contracts_review_equals_the_engine(i: int, mode: Mode, tmp_path: Path) -> None:
    generated = case(i)
    contract, actuals, adjustments = generated.contract, generated.actuals, generated.adjustments
    check_review(contract, actuals, adjustments, mode, tmp_path / "generated.xlsx")


@pytest.mark.slow
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), mode=st.sampled_from(["native", "udf"]))
def test_hypothesis_contracts_review_equals_the_engine(
    data: st.DataObject, mode: Mode, tmp_path: Path
) -> None:
    document = data.draw(contract_data())
    # The review's revenue and exit figures: a revenue KPI (maybe with a baseline), an exit clause.
    codes = [kpi["code"] for kpi in document["kpis"]]
    revenue = data.draw(st.sampled_from([None, *codes]))
    if revenue is not None:
        document["revenue_kpi"] = revenue
        kpi = document["kpis"][codes.index(revenue)]
        if kpi["direction"] == "higher" and data.draw(st.booleans()):
            kpi["baseline"] = kpi["target"] // 2
    if data.draw(st.booleans()):
        threshold = data.draw(st.sampled_from([0.8, 1.0, 1.2]))
        document["exit"] = {"threshold": threshold, "consecutive": data.draw(st.integers(1, 3))}
    contract = build(document)
    actuals = data.draw(actuals_for(document))
    # Some periods not settled yet: the latest ones (cumulative settlement has no gaps), or
    # any in period settlement.
    n = contract.periods
    if contract.settlement == "cumulative":
        kept = set(range(1, data.draw(st.integers(1, n)) + 1))
    else:
        kept = data.draw(st.sets(st.integers(1, n), min_size=1))
    actuals = replace(actuals, rows=tuple(r for i, r in enumerate(actuals.rows, 1) if i in kept))
    check_review(contract, actuals, None, mode, tmp_path / "hypothesis.xlsx")


def test_without_a_settled_period_the_review_is_blank(tmp_path: Path) -> None:
    contract, _actuals, _adjustments = example("acme-amz-us")
    layout = Layout(contract)
    values = review_values(layout, None)
    at = ReviewLayout(layout)
    assert values[at.header("settled").replace("$", "")] == 0.0
    figures = [v for ref, v in values.items() if ref not in _counts(at, contract)]
    assert set(figures) == {""}
    out = tmp_path / "blank.xlsx"
    build_workbook(contract, None, None, mode="native", out=out)
    evaluated = evaluate_workbook(out, {})
    review_cells = {k: v for k, v in evaluated.items() if k.startswith(f"{REVIEW}!")}
    assert review_cells
    # Only the hidden chart series hold #N/A (a line chart leaves those points out).
    hidden = {f"{REVIEW}!{ref}" for ref in _counts(at, contract)} - {
        f"{REVIEW}!{at.header('settled')}".replace("$", "")
    }
    errors = [k for k, v in review_cells.items() if isinstance(v, str) and v.startswith("#")]
    assert errors
    assert set(errors) <= hidden
    for ref, value in values.items():
        found = review_cells[f"{REVIEW}!{ref}"]
        assert (found in (None, "") and value == "") or found == value, (ref, found, value)


def _counts(at: ReviewLayout, contract: Contract) -> set[str]:
    """Cells that hold a number even before a period is settled: counts and the target line."""
    refs = {at.header("settled"), at.header("periods")}
    refs |= {at.target(p) for p in range(1, contract.periods + 1)}
    refs |= {
        at.chart_point(p, k)
        for p in range(1, contract.periods + 1)
        for k in range(len(contract.kpis))
    }
    return {ref.replace("$", "") for ref in refs}


@pytest.mark.parametrize("i", range(12))
def test_the_blank_cache_covers_every_formula_cell(i: int) -> None:
    contract = case(i).contract
    for adjustment_rows in (0, 3):
        layout = Layout(contract, adjustment_rows)
        cells = [c.ref for c in review_cells(layout) if c.kind == "formula"]
        assert sorted(formula_refs(ReviewLayout(layout))) == sorted(cells)


def test_the_review_sheet_is_in_both_variants_and_prints_on_a4() -> None:
    contract, _actuals, _adjustments = example("acme-amz-us")
    for variant in ("full", "client"):
        schema = template_schema(contract, variant=variant)  # type: ignore[arg-type]
        sheet = {s.name: s for s in schema.sheets}[REVIEW]
        assert sheet.printing.portrait and sheet.printing.header_footer
        assert any(c.sheet == REVIEW and c.kind == "formula" for c in schema.cells)


def test_a_forged_review_figure_is_reported(tmp_path: Path) -> None:
    contract, actuals, adjustments = example("shopee-vn-fashion")
    path = tmp_path / "review.xlsx"
    build_workbook(contract, actuals, adjustments, mode="native", out=path)
    assert [i for i in validate_workbook(path) if i.severity == "error"] == []
    at = ReviewLayout(Layout(contract))
    ref = at.fee("total").replace("$", "")
    forged = tmp_path / "forged.xlsx"
    patch_cached_values(path, forged, {REVIEW: {ref: 1.0}})
    found = [(i.location, i.code) for i in validate_workbook(forged) if i.severity == "error"]
    assert found == [(f"{forged}:{REVIEW}!{ref}", "KX405")]
    cached = openpyxl.load_workbook(path, data_only=True)[REVIEW][ref].value
    assert cached == pytest.approx(settle(contract, actuals, adjustments).totals.total, abs=0.005)
    # kpixl recalc stores the engine's figure again.
    assert recalc(forged).ok
    assert [i for i in validate_workbook(forged) if i.severity == "error"] == []
    assert openpyxl.load_workbook(forged, data_only=True)[REVIEW][ref].value == cached
