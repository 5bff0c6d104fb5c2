"""Daily figures for pacing (SPEC §9): read from CSV or sheet rows, checked against a contract."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kpixl.actuals import Cell, keyed_rows, parse_number, read_table
from kpixl.engine._arrays import FloatArray
from kpixl.errors import ActualsError, Issue
from kpixl.model import Contract

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True, slots=True)
class DailyRow:
    """One row of a daily file as read: its line, the date cell and the metric cells."""

    line: int
    date: Cell
    cells: dict[str, Cell]


@dataclass(frozen=True)
class DailyRows:
    """A daily file as read (``date`` then metric columns), not yet checked against a contract."""

    source: str
    columns: tuple[str, ...]
    rows: tuple[DailyRow, ...]

    @classmethod
    def from_rows(
        cls,
        header: Sequence[Cell],
        rows: Sequence[Sequence[Cell]],
        source: str,
        first_line: int = 2,
    ) -> DailyRows:
        """Daily rows from a header and rows of cells (parsed CSV or a sheet's values).

        Raises:
            ActualsError: the header has no ``date`` column or repeats a column (KX230).
        """
        names = ["" if cell is None else str(cell).strip() for cell in header]
        while names and not names[-1]:
            names.pop()
        if "date" not in names:
            raise ActualsError.from_issues(
                [Issue(source, "KX230", "the header has no 'date' column")]
            )
        repeated = sorted({name for name in names if name and names.count(name) > 1})
        if repeated:
            message = f"columns appear twice: {', '.join(repeated)}"
            raise ActualsError.from_issues([Issue(source, "KX230", message)])
        parsed = [DailyRow(*row) for row in keyed_rows(names, rows, "date", first_line)]
        return cls(source, tuple(n for n in names if n != "date"), tuple(parsed))


@dataclass(frozen=True)
class DailyData:
    """Daily figures checked against a contract: dates in order, one array per needed column.

    A blank cell is NaN: that day has no figure for the column.
    """

    source: str
    dates: tuple[dt.date, ...]
    values: dict[str, FloatArray]


def read_daily(path: str | Path) -> DailyRows:
    """Read a daily CSV: ``date`` (YYYY-MM-DD), then one column per metric.

    Raises:
        ActualsError: the file cannot be read or has no usable header.
    """
    source = str(path)
    header, rows = read_table(Path(path), source)
    return DailyRows.from_rows(header, rows, source)


def period_dates(contract: Contract, index: int) -> tuple[dt.date, dt.date]:
    """The first and last calendar day of period ``index`` (the month or quarter of its label)."""
    months = 1 if contract.period == "month" else 3
    start = contract.start
    first0 = start.year * 12 + (start.month - 1) // months * months + (index - 1) * months
    year, month = divmod(first0, 12)
    after_year, after_month = divmod(first0 + months, 12)
    last = dt.date(after_year, after_month + 1, 1) - dt.timedelta(days=1)
    return dt.date(year, month + 1, 1), last


def period_containing(contract: Contract, day: dt.date) -> int | None:
    """The 1-based contract period that contains ``day``, or None outside the contract."""
    months = 1 if contract.period == "month" else 3
    start = contract.start
    first0 = start.year * 12 + (start.month - 1) // months * months
    index = (day.year * 12 + day.month - 1 - first0) // months + 1
    return index if 1 <= index <= contract.periods else None


def parse_date(cell: Cell) -> dt.date:
    """A day from a cell: a date (or datetime) or text ``YYYY-MM-DD``.

    Raises:
        ValueError: with a message fit for a user.
    """
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    text = "" if cell is None else str(cell).strip()
    match = _DATE.match(text)
    if match:
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise ValueError(f"is not a date as YYYY-MM-DD: {text!r}")


def resolve_daily(contract: Contract, daily: DailyRows) -> DailyData:
    """Check a daily file against a contract and turn it into arrays ordered by date.

    Raises:
        ActualsError: every problem, each naming the file, the line, the date and the column:
            a missing column (KX231), a bad date (KX232), a date outside the contract (KX233),
            a day twice (KX234), a non-numeric or negative cell (KX235). Blank cells are allowed.
    """
    needed = contract.required_columns
    missing = [
        Issue(daily.source, "KX231", f"missing column {column!r}, needed by {who}")
        for column, who in needed.items()
        if column not in daily.columns
    ]
    if missing:
        raise ActualsError.from_issues(missing)
    first, _ = period_dates(contract, 1)
    _, last = period_dates(contract, contract.periods)
    non_negative = contract.non_negative_columns
    issues: list[Issue] = []
    seen: dict[dt.date, int] = {}
    parsed: list[tuple[dt.date, dict[str, float]]] = []
    for row in daily.rows:
        where = f"{daily.source}: line {row.line}"
        try:
            day = parse_date(row.date)
        except ValueError as e:
            issues.append(Issue(f"{where}, column date", "KX232", str(e)))
            continue
        where = f"{where} (date {day.isoformat()})"
        if period_containing(contract, day) is None:
            message = f"is outside the contract ({first.isoformat()} .. {last.isoformat()})"
            issues.append(Issue(where, "KX233", message))
            continue
        if day in seen:
            issues.append(Issue(where, "KX234", f"the day appears twice (also line {seen[day]})"))
            continue
        seen[day] = row.line
        values: dict[str, float] = {}
        for column in needed:
            cell = row.cells.get(column)
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                # A blank cell is a day without that figure (`kpixl ingest --daily` leaves
                # mean columns blank on days without data): not counted in sums or means.
                values[column] = math.nan
                continue
            try:
                value = parse_number(cell)
            except ValueError as e:
                issues.append(Issue(f"{where}, column {column}", "KX235", str(e)))
                continue
            if value < 0 and column in non_negative:
                message = f"is negative ({value:g}); {non_negative[column]}"
                issues.append(Issue(f"{where}, column {column}", "KX235", message))
            values[column] = value
        parsed.append((day, values))
    if issues:
        raise ActualsError.from_issues(issues)
    parsed.sort(key=lambda item: item[0])
    arrays = {
        column: np.asarray([values[column] for _, values in parsed], dtype=np.float64)
        for column in needed
    }
    return DailyData(daily.source, tuple(day for day, _ in parsed), arrays)
