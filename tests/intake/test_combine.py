"""The pure roll-up: days to periods, roll-ups, partial periods, daily rows (no files)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpixl.errors import IntakeError
from kpixl.intake.apply import Metric, SourceFigures
from kpixl.intake.ingest import combine, period_bounds
from kpixl.intake.render import actuals_csv, daily_csv, number_text
from kpixl.model import contract_from_data

BASE = {
    "id": "T",
    "client": "c",
    "provider": "p",
    "currency": "USD",
    "platform": "other",
    "start": "2027-01-15",
    "period": "month",
    "periods": 4,
    "fee": {"base": 1, "pool": 1},
    "kpis": [{"code": "gmv", "weight": 1, "target": 10}],
}


def contract(**changes: object) -> object:
    return contract_from_data({**BASE, **changes})


def source(
    name: str, rows: list[tuple[dt.date, dict[str, Decimal | str]]], rollups: dict[str, str]
) -> SourceFigures:
    figures = SourceFigures(name, name, "m", "0" * 64)
    figures.metrics = {m: Metric(m, r) for m, r in rollups.items()}  # type: ignore[arg-type]
    for day, values in rows:
        figures.rows += 1
        figures.dates.add(day)
        for metric, value in values.items():
            figures.metrics[metric].add(day, value)
    return figures


def test_period_bounds_follow_calendar_months_and_quarters() -> None:
    monthly = contract()
    assert period_bounds(monthly, 1) == (dt.date(2027, 1, 1), dt.date(2027, 1, 31))
    assert period_bounds(monthly, 2) == (dt.date(2027, 2, 1), dt.date(2027, 2, 28))
    quarterly = contract(period="quarter", start="2027-11-01")
    assert period_bounds(quarterly, 1) == (dt.date(2027, 10, 1), dt.date(2027, 12, 31))
    assert period_bounds(quarterly, 2) == (dt.date(2028, 1, 1), dt.date(2028, 3, 31))


def test_rollups_mean_last_and_count_distinct() -> None:
    d = dt.date
    rows: list[tuple[dt.date, dict[str, Decimal | str]]] = [
        (
            d(2027, 1, 3),
            {"gmv": Decimal("10.10"), "rate": Decimal("0.2"), "stock": Decimal(5), "orders": "#1"},
        ),
        (
            d(2027, 1, 3),
            {"gmv": Decimal("0.20"), "rate": Decimal("0.4"), "stock": Decimal(4), "orders": "#2"},
        ),
        (
            d(2027, 1, 9),
            {"gmv": Decimal("-0.30"), "rate": Decimal("0.3"), "stock": Decimal(7), "orders": "#2"},
        ),
        (
            d(2027, 2, 1),
            {"gmv": Decimal("1"), "rate": Decimal("0.1"), "stock": Decimal(1), "orders": "#3"},
        ),
    ]
    rollups = {"gmv": "sum", "rate": "mean", "stock": "last", "orders": "count_distinct"}
    result = combine(contract(), [source("s.csv", rows, rollups)], dt.date(2027, 2, 1))
    january, february = result.periods
    assert january.complete and not february.complete
    assert january.values == {
        "gmv": Decimal("10.00"), "rate": Decimal("0.3"), "stock": Decimal(7), "orders": 2,
    }  # fmt: skip
    assert january.days_with_data == 2
    assert actuals_csv(result) == "period,gmv,rate,stock,orders\n2027-01,10,0.3,7,2\n"
    daily = daily_csv(result).splitlines()
    assert daily[0] == "date,gmv,rate,stock,orders"
    assert daily[1] == "2027-01-03,10.3,0.3,4,2"
    assert daily[2] == "2027-01-04,0,,,0"  # no rows: zero sums, empty mean and last
    assert daily[-1] == "2027-02-01,1,0.1,1,1"
    assert len(daily) == 1 + 30


def test_rows_after_through_and_outside_the_contract_are_left_out() -> None:
    d = dt.date
    rows: list[tuple[dt.date, dict[str, Decimal | str]]] = [
        (d(2026, 12, 31), {"gmv": Decimal(100)}),
        (d(2027, 1, 31), {"gmv": Decimal(1)}),
        (d(2027, 2, 2), {"gmv": Decimal(2)}),
    ]
    result = combine(contract(), [source("s.csv", rows, {"gmv": "sum"})], d(2027, 1, 31))
    assert actuals_csv(result) == "period,gmv\n2027-01,1\n"
    assert result.outside == 1
    assert [p.label for p in result.periods] == ["2027-01"]


def test_two_sources_of_a_column_and_a_column_from_none() -> None:
    d = dt.date(2027, 1, 1)
    one = source("a.csv", [(d, {"gmv": Decimal(1)})], {"gmv": "sum"})
    two = source("b.csv", [(d, {"gmv": Decimal(1)})], {"gmv": "sum"})
    with pytest.raises(IntakeError) as caught:
        combine(contract(), [one, two])
    assert [i.code for i in caught.value.issues] == ["KX245"]
    other = source("c.csv", [(d, {"sales": Decimal(1)})], {"sales": "sum"})
    with pytest.raises(IntakeError) as caught:
        combine(contract(), [other])
    assert [i.code for i in caught.value.issues] == ["KX246"]


def test_number_text_keeps_exact_sums_and_rounds_endless_means() -> None:
    assert number_text(Decimal("1234.50")) == "1234.5"
    assert number_text(Decimal("1E+3")) == "1000"
    assert number_text(Decimal(1) / 3) == "0.3333333333333333"
    assert number_text(None) == ""
    assert number_text(7) == "7"


cents = st.integers(min_value=-(10**7), max_value=10**9).map(lambda c: Decimal(c) / 100)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=119), cents), min_size=1, max_size=60))
def test_period_sums_are_the_sums_of_their_days(entries: list[tuple[int, Decimal]]) -> None:
    start = dt.date(2027, 1, 1)
    rows: list[tuple[dt.date, dict[str, Decimal | str]]] = [
        (start + dt.timedelta(days=n), {"gmv": value}) for n, value in entries
    ]
    through = start + dt.timedelta(days=119)
    result = combine(contract(), [source("s.csv", rows, {"gmv": "sum"})], through)
    for period in result.periods:
        expected = sum(
            (v for n, v in entries if period.first <= start + dt.timedelta(days=n) <= period.last),
            Decimal(0),
        )
        assert period.values["gmv"] == expected
        daily = sum(
            (
                values["gmv"] or 0
                for day, values in result.daily
                if period.first <= day <= period.last
            ),
            Decimal(0),
        )
        assert daily == expected
