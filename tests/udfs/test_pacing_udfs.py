"""KPIXL_PACE, KPIXL_NEXTSTEP and KPIXL_REST as plain functions equal the pacing engine."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kpixl.daily import read_daily, resolve_daily
from kpixl.engine.pacing import breakpoints, column_kinds, pace
from kpixl.model import load_contract
from tests.conftest import EXAMPLES
from udfs import kpixl_udfs as udf
from udfs.kpixl_udfs import UdfInputError


@pytest.fixture(autouse=True)
def errors_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(udf, "_ERRORS_AS_TEXT", False)


def test_pacing_udfs_rebuild_kpixl_pace_of_the_example() -> None:
    contract = load_contract(EXAMPLES / "acme-amz-us.yaml")
    daily = resolve_daily(contract, read_daily(EXAMPLES / "daily" / "acme-amz-us.daily.csv"))
    result = pace(contract, daily, dt.date(2027, 3, 12))
    kinds = column_kinds(contract)
    n, e = result.days_in_period, result.days_elapsed
    projected = {
        column: udf.kpixl_pace(value, kinds[column], n, e)
        for column, value in result.column_to_date.items()
    }
    assert projected["gmv"] == 112_260 * 31 / 12
    for kpi, k in zip(contract.kpis, result.kpis, strict=True):
        if kpi.ratio is None:
            assert projected[kpi.source_column] == k.projected
        else:
            num, den = kpi.ratio
            assert projected[num] / projected[den] == pytest.approx(k.projected, rel=1e-15)
        points = [list(breakpoints(kpi))]
        assert k.next_step is not None
        b = udf.kpixl_nextstep(k.attainment, points)
        a_star = udf.kpixl_nextstep(k.attainment, points, kpi.direction, k.target)
        assert (b, a_star) == (k.next_step.attainment, k.next_step.actual)
        if kpi.ratio is None:
            to_date = result.column_to_date[kpi.source_column]
            shape, denominator = kinds[kpi.source_column], None
        else:
            to_date = result.column_to_date[kpi.ratio[0]]
            shape, denominator = "ratio", result.column_to_date[kpi.ratio[1]]
        rest = udf.kpixl_rest(shape, a_star, to_date, n, e, denominator)
        per_day = udf.kpixl_rest(shape, a_star, to_date, n, e, denominator, True)
        assert rest == k.next_step.rest_of_period
        assert per_day == ("" if k.next_step.per_day is None else k.next_step.per_day)


def test_blank_when_nothing_is_left() -> None:
    assert udf.kpixl_nextstep(1.6, [[0.8, 1.0, 1.5]]) == ""
    assert udf.kpixl_nextstep(1.6, [[0.8, 1.0, 1.5]], "higher", 100) == ""
    assert udf.kpixl_nextstep(0.9, [[0.8, None, 1.0]], "lower", 0.1, 0.2) == pytest.approx(0.1)
    assert udf.kpixl_rest("sum", 100, 40, 31, 31) == ""
    assert udf.kpixl_rest("sum", 100, 40, 31, 30, None, True) == 60


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: udf.kpixl_pace(1, "median", 31, 3), "KPIXL_PACE: kind must be one of"),
        (lambda: udf.kpixl_pace(1, "sum", 31, 40), "days elapsed must be within 1..31"),
        (lambda: udf.kpixl_pace("x", "sum", 31, 3), "to_date must be a number"),
        (lambda: udf.kpixl_nextstep(1, [["a"]]), "breakpoints must be a number"),
        (lambda: udf.kpixl_rest("ratio", 1, 1, 31, 3), "denominator"),
        (lambda: udf.kpixl_rest(None, 1, 1, 31, 3), "shape is required"),
    ],
)
def test_bad_arguments_are_value_errors(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(UdfInputError, match=message):
        call()


def test_kpixl_todate_is_the_engines_to_date_of_every_kind() -> None:
    from kpixl.engine.pacing import to_date_of

    first, as_of = dt.date(2027, 3, 1), dt.date(2027, 3, 4)
    days = [dt.date(2027, 3, d) for d in (3, 1, 2, 4, 5)]
    values: list[float | None] = [30.0, 10.0, None, 40.5, 99.0]
    serials = [[float((d - dt.date(1899, 12, 30)).days)] for d in days]
    cells = [[v] for v in values]
    for kind, want in (("sum", 80.5), ("mean", 80.5 / 3), ("last", 40.5)):
        assert to_date_of(kind, days, values, first, as_of) == want
        assert udf.kpixl_todate(kind, serials, cells, serials[1][0], serials[3][0]) == want
        as_datetimes = [[dt.datetime.combine(d, dt.time())] for d in days]
        assert udf.kpixl_todate(kind, as_datetimes, cells, first, as_of) == want
    # A blank row, and text where a figure belongs, are days without a figure (as SUMIFS reads).
    assert udf.kpixl_todate("sum", [*serials, [None]], [*cells, [5.0]], 46447.0, 46450.0) == 80.5
    assert udf.kpixl_todate("mean", serials[2:3], [["n/a"]], 46447.0, 46450.0) == ""
    assert udf.kpixl_todate("sum", serials[2:3], [[None]], 46447.0, 46450.0) == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: udf.kpixl_todate("median", [[1.0]], [[1.0]], 1, 2), "kind must be one of"),
        (lambda: udf.kpixl_todate("sum", [[1.0], [2.0]], [[1.0]], 1, 2), "as many rows"),
        (lambda: udf.kpixl_todate("sum", [["x"]], [[1.0]], 1, 2), "dates must be a number"),
        (lambda: udf.kpixl_todate("sum", [[1.0]], [[1.0]], None, 2), "first_day and as_of"),
    ],
)
def test_kpixl_todate_bad_input_is_a_readable_value_error(call: Any, message: str) -> None:
    with pytest.raises(UdfInputError, match=message):
        call()
