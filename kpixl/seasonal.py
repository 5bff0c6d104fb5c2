"""Seasonality for ``kpixl init`` (SPEC §12): a period's calendar months and a monthly profile.

A profile is a CSV of ``month`` (1..12) and ``index`` (the month's share of an average month:
1.3 = 30 % above it) whose twelve indices average 1 within :data:`TOLERANCE`. Lines starting
with ``#`` are comments (the shipped profiles say there that their numbers are SAMPLES).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass
from pathlib import Path

from kpixl.actuals import parse_number
from kpixl.errors import Issue, KpixlError

CODE_SEASONALITY = "KX134"
#: How far the mean of the twelve indices may be from 1 (a profile rounded to 2 decimals fits).
TOLERANCE = 0.005
#: Shipped profiles: ``NAME.seasonality.csv`` beside the templates.
PROFILES_DIR = Path(__file__).resolve().parent / "data" / "templates"
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class SeasonalityError(KpixlError):
    """A seasonality profile that cannot be used."""


@dataclass(frozen=True, slots=True)
class Seasonality:
    """Twelve monthly indices (January first) and where they came from."""

    source: str
    indices: tuple[float, ...]

    def index_of(self, months: tuple[int, ...]) -> float:
        """The index of a period: its month's, or the mean of a quarter's three months."""
        return math.fsum(self.indices[m - 1] for m in months) / len(months)


def period_months(start: dt.date, period: str, periods: int) -> list[tuple[str, tuple[int, ...]]]:
    """Each contract period's label and calendar months (1..12).

    Args:
        start: the contract's start date.
        period: ``month`` or ``quarter`` (calendar quarters from the one containing ``start``).
        periods: how many periods.

    Returns:
        (label, months) per period: ``("2027-01", (1,))`` or ``("2027-Q1", (1, 2, 3))``.
    """
    found = []
    for p in range(periods):
        if period == "quarter":
            q = (start.month - 1) // 3 + p
            year, quarter = start.year + q // 4, q % 4 + 1
            found.append((f"{year}-Q{quarter}", tuple(range(3 * quarter - 2, 3 * quarter + 1))))
        else:
            m = start.month - 1 + p
            year, month = start.year + m // 12, m % 12 + 1
            found.append((f"{year:04d}-{month:02d}", (month,)))
    return found


def months_in_words(months: tuple[int, ...]) -> str:
    """``Jan`` or ``Jan–Mar``."""
    if len(months) == 1:
        return MONTH_NAMES[months[0] - 1]
    return f"{MONTH_NAMES[months[0] - 1]}–{MONTH_NAMES[months[-1] - 1]}"


def profile_path(name: str) -> Path:
    """A profile given by path, or by a template's name (its shipped SAMPLE profile)."""
    candidate = Path(name)
    if candidate.suffix.lower() == ".csv" or candidate.exists():
        return candidate
    return PROFILES_DIR / f"{name}.seasonality.csv"


def read_seasonality(name: str | Path) -> Seasonality:
    """Read a seasonality profile from a CSV file, or a template's shipped one by name.

    Raises:
        SeasonalityError: unreadable, or breaking the format (KX134, naming the line).
    """
    path = profile_path(str(name))
    source = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise SeasonalityError.from_issues(
            [Issue(source, CODE_SEASONALITY, f"cannot read: {e}")]
        ) from e
    except UnicodeDecodeError as e:
        message = f"not UTF-8 text (byte {e.start}); save the CSV as UTF-8"
        raise SeasonalityError.from_issues([Issue(source, CODE_SEASONALITY, message)]) from e
    return seasonality_from_text(text, source)


def seasonality_from_text(text: str, source: str) -> Seasonality:
    """Parse a profile: header ``month,index``, then twelve rows, months 1..12 once each.

    Args:
        text: the CSV text.
        source: the file named in messages.

    Returns:
        The profile.

    Raises:
        SeasonalityError: any other header, a month outside 1..12 or given twice, an index that
            is not a number > 0, not twelve rows, or indices whose mean is not 1 ± TOLERANCE.
    """
    lines = [
        (n, line)
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise SeasonalityError.from_issues([Issue(source, CODE_SEASONALITY, "the file is empty")])
    delimiter = max(",;\t", key=lines[0][1].count)
    header_line, header = lines[0]
    names = [name.strip().lower() for name in next(csv.reader([header], delimiter=delimiter))]
    if names != ["month", "index"]:
        message = f"the header must be 'month,index', not {header.strip()!r}"
        where = f"{source}: line {header_line}"
        raise SeasonalityError.from_issues([Issue(where, CODE_SEASONALITY, message)])
    indices: dict[int, tuple[int, float]] = {}
    issues = []
    for n, line in lines[1:]:
        problem, month, index = _row(next(csv.reader(io.StringIO(line), delimiter=delimiter)))
        if problem is None and month in indices:
            problem = f"month {month} appears twice (also line {indices[month][0]})"
        if problem is not None:
            issues.append(Issue(f"{source}: line {n}", CODE_SEASONALITY, problem))
            continue
        indices[month] = (n, index)
    if not issues and len(indices) != 12:
        missing = ", ".join(str(m) for m in range(1, 13) if m not in indices)
        issues.append(
            Issue(source, CODE_SEASONALITY, f"needs 12 months, one row each; missing {missing}")
        )
    if issues:
        raise SeasonalityError.from_issues(issues)
    values = tuple(indices[m][1] for m in range(1, 13))
    mean = math.fsum(values) / 12
    if abs(mean - 1) > TOLERANCE:
        message = f"the 12 indices average {mean:.6g}; they must average 1 (± {TOLERANCE:g})"
        raise SeasonalityError.from_issues([Issue(source, CODE_SEASONALITY, message)])
    return Seasonality(source, values)


def _row(cells: list[str]) -> tuple[str | None, int, float]:
    cells = [cell.strip() for cell in cells]
    if len(cells) != 2:
        return f"expected 2 cells (month, index), found {len(cells)}", 0, 0.0
    try:
        month_value = parse_number(cells[0])
    except ValueError as e:
        return f"month {e}", 0, 0.0
    if month_value != int(month_value) or not 1 <= month_value <= 12:
        return f"month must be a whole number 1..12, not {cells[0]!r}", 0, 0.0
    try:
        index = parse_number(cells[1])
    except ValueError as e:
        return f"index {e}", 0, 0.0
    if index <= 0:
        return f"index must be > 0, not {cells[1]!r}", 0, 0.0
    return None, int(month_value), index
