"""Export cells: money and percentages as platforms write them, dates never guessed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kpixl.intake.cells import DateReader, parse_amount


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        ("$1,234.56", "point", "1234.56"),
        ("US$1,234.56", "point", "1234.56"),
        ("￥1,234", "point", "1234"),
        ("₹1,08,218.36", "point", "108218.36"),
        ("1.234,56 €", "comma", "1234.56"),
        ("1 234,56", "comma", "1234.56"),
        ("(12.50)", "point", "-12.50"),
        ("-$3.00", "point", "-3.00"),
        ("$-3.00", "point", "-3.00"),
        ("12.5%", "point", "0.125"),
        ("12,5%", "comma", "0.125"),
        ("RM 12.30", "point", "12.30"),
        ("HK$1,000,000.00", "point", "1000000.00"),
        ("12.30 USD", "point", "12.30"),
        ("1,234", "point", "1234"),
        ("0.5", "point", "0.5"),
        (" 7 ", "point", "7"),
    ],
)
def test_amounts_as_platforms_write_them(text: str, decimal: str, expected: str) -> None:
    assert parse_amount(text, decimal) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "decimal"),
    [
        ("1,5", "point"),  # a decimal comma where the mapping says point: never guessed
        ("1.234,56 €", "point"),
        ("1,23,4.5", "point"),
        ("12a", "point"),
        ("abc", "point"),
        ("", "point"),
        ("$", "point"),
        ("1.2.3", "point"),
        ("1,234.56", "comma"),
    ],
)
def test_unreadable_amounts_are_refused(text: str, decimal: str) -> None:
    with pytest.raises(ValueError, match="is (not an amount|empty)"):
        parse_amount(text, decimal)


def test_typed_numbers_are_taken_as_typed() -> None:
    assert parse_amount(1234.56) == Decimal("1234.56")
    assert parse_amount(7) == Decimal(7)
    with pytest.raises(ValueError):
        parse_amount(True)
    with pytest.raises(ValueError):
        parse_amount(float("nan"))
    with pytest.raises(ValueError):
        parse_amount(dt.date(2027, 1, 1))


def test_dates_in_the_mappings_formats() -> None:
    reader = DateReader(("%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d", "%b %d, %Y"))
    day = dt.date(2027, 1, 31)
    for text in ("2027-01-31", "01/31/2027", "1/31/27", "Jan 31, 2027"):
        assert reader.read(text) == day
    assert reader.read(dt.datetime(2027, 1, 31, 0, 0)) == day  # an Excel date cell
    with pytest.raises(ValueError, match="not a date"):
        reader.read("31/01/2027")
    with pytest.raises(ValueError, match="a number"):
        reader.read(46418.0)  # an Excel serial that is not a date cell is not guessed


def test_month_first_and_day_first_are_never_guessed() -> None:
    reader = DateReader(("%m/%d/%Y", "%d/%m/%Y"))
    with pytest.raises(ValueError, match="ambiguous"):
        reader.read("02/03/2027")
    assert reader.read("02/13/2027") == dt.date(2027, 2, 13)  # only one reading
