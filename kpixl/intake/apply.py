"""One export through its mapping: the rows that count, rolled up per day (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from kpixl.errors import Issue
from kpixl.intake.cells import Cell, DateReader, blank, parse_amount, parse_text_value
from kpixl.intake.issues import CELL_UNREADABLE, COLUMN_MISSING, DATE_UNKNOWN
from kpixl.intake.mapping import Mapping, Rollup, SourceColumn, header_key
from kpixl.intake.table import ExportTable

#: Cell problems reported per export before the rest are only counted.
MAX_CELL_ISSUES = 20


@dataclass
class Metric:
    """One produced column's figures per day, kept as exact decimals (or distinct values)."""

    name: str
    rollup: Rollup
    sums: dict[dt.date, Decimal] = field(default_factory=dict)
    counts: dict[dt.date, int] = field(default_factory=dict)
    lasts: dict[dt.date, Decimal] = field(default_factory=dict)
    distinct: dict[dt.date, set[str]] = field(default_factory=dict)

    def add(self, day: dt.date, value: Decimal | str) -> None:
        """Add one counted row's value on its day."""
        if isinstance(value, str):
            self.distinct.setdefault(day, set()).add(value)
            return
        self.sums[day] = self.sums.get(day, Decimal(0)) + value
        self.counts[day] = self.counts.get(day, 0) + 1
        self.lasts[day] = value

    def over(self, days: Sequence[dt.date]) -> Decimal | int | None:
        """The roll-up over some days (ascending); None when a mean or last has no row."""
        if self.rollup == "count_distinct":
            seen: set[str] = set()
            for day in days:
                seen |= self.distinct.get(day, set())
            return len(seen)
        if self.rollup == "sum":
            return sum((self.sums.get(day, Decimal(0)) for day in days), Decimal(0))
        with_rows = [day for day in days if day in self.counts]
        if not with_rows:
            return None
        if self.rollup == "last":
            return self.lasts[with_rows[-1]]
        total = sum((self.sums[day] for day in with_rows), Decimal(0))
        return total / sum(self.counts[day] for day in with_rows)


@dataclass
class SourceFigures:
    """What one export produced: its evidence facts and its metrics per day."""

    file: str
    name: str
    mapping: str
    sha256: str
    rows: int = 0
    metrics: dict[str, Metric] = field(default_factory=dict)
    dates: set[dt.date] = field(default_factory=set)

    @property
    def first_date(self) -> dt.date | None:
        """The earliest date of a row that counts."""
        return min(self.dates) if self.dates else None

    @property
    def last_date(self) -> dt.date | None:
        """The latest date of a row that counts."""
        return max(self.dates) if self.dates else None


@dataclass(frozen=True)
class Export:
    """One ``--source``: the mapping, the export's header and rows, and what identifies it."""

    mapping: Mapping
    mapping_ref: str
    name: str
    sha256: str
    header_number: int
    header: Sequence[Cell]
    table: ExportTable


@dataclass(frozen=True)
class _Columns:
    date: int
    values: tuple[tuple[SourceColumn, int], ...]
    first_of: int | None
    exclude: tuple[int, ...]


def apply_mapping(export: Export) -> tuple[SourceFigures, list[Issue]]:
    """Read every row of an export through its mapping.

    Args:
        export: the mapping and the export's rows.

    Returns:
        The figures per day and every problem found (missing columns, unreadable cells, dates).
    """
    table, mapping = export.table, export.mapping
    figures = SourceFigures(table.file, export.name, export.mapping_ref, export.sha256)
    figures.metrics = {c.metric: Metric(c.metric, c.rollup) for c in mapping.columns}
    columns, issues = _find_columns(export)
    if columns is None:
        return figures, issues
    reader = DateReader(mapping.date.formats)
    seen: set[str] = set()
    problems = 0
    for number, cells in table.rows:
        if all(blank(cell) for cell in cells):
            continue
        figures.rows += 1
        found = _read_row(export, columns, number, cells, reader, seen, figures)
        problems += len(found)
        issues.extend(found[: max(0, MAX_CELL_ISSUES - len(issues))])
    if problems > MAX_CELL_ISSUES:
        issues.append(
            Issue(
                table.file, CELL_UNREADABLE, f"{problems - MAX_CELL_ISSUES} more cells like these"
            )
        )
    return figures, issues


def _read_row(
    export: Export,
    columns: _Columns,
    number: int,
    cells: Sequence[Cell],
    reader: DateReader,
    seen: set[str],
    figures: SourceFigures,
) -> list[Issue]:
    table = export.table

    def where(index: int) -> str:
        return table.where(number, index, _header_text(export.header, index))

    try:
        if not _counts(columns, cells, seen):
            return []
    except ValueError as e:
        return [Issue(where(columns.first_of or 0), CELL_UNREADABLE, str(e))]
    try:
        day = reader.read(_cell(cells, columns.date))
    except ValueError as e:
        return [Issue(where(columns.date), DATE_UNKNOWN, str(e))]
    values: list[tuple[str, Decimal | str]] = []
    issues: list[Issue] = []
    for column, index in columns.values:
        try:
            values.append((column.metric, _value(column, _cell(cells, index), export.mapping)))
        except ValueError as e:
            issues.append(Issue(where(index), CELL_UNREADABLE, str(e)))
    if not issues:
        figures.dates.add(day)
        for metric, value in values:
            figures.metrics[metric].add(day, value)
    return issues


def _cell(cells: Sequence[Cell], index: int) -> Cell:
    return cells[index] if index < len(cells) else None


def _counts(columns: _Columns, cells: Sequence[Cell], seen: set[str]) -> bool:
    """Whether a row counts: the first of its order (line-item exports) and not excluded."""
    if columns.first_of is not None:
        key = parse_text_value(_cell(cells, columns.first_of))
        if key in seen:
            return False  # a further line item of an order already counted (or left out)
        seen.add(key)
    return all(blank(_cell(cells, index)) for index in columns.exclude)


def _value(column: SourceColumn, raw: Cell, mapping: Mapping) -> Decimal | str:
    if column.rollup == "count_distinct":
        return parse_text_value(raw)
    if column.blank_as_zero and blank(raw):
        return Decimal(0)
    return parse_amount(raw, mapping.decimal)


def _header_text(header: Sequence[Cell], index: int) -> str:
    return "" if index >= len(header) or header[index] is None else str(header[index]).strip()


def _find_columns(export: Export) -> tuple[_Columns | None, list[Issue]]:
    """Where each header the mapping names sits; every missing or repeated one is an issue."""
    mapping, table = export.mapping, export.table
    keys: dict[str, list[int]] = {}
    for index, name in enumerate(export.header):
        if not blank(name):
            keys.setdefault(header_key(str(name)), []).append(index)
    issues: list[Issue] = []
    here = table.where(export.header_number)

    def find(column: str, aliases: tuple[str, ...] = ()) -> int:
        for name in (column, *aliases):
            hits = keys.get(header_key(name), [])
            if len(hits) > 1:
                issues.append(
                    Issue(here, COLUMN_MISSING, f"column {name!r} appears {len(hits)} times")
                )
                return -1
            if hits:
                return hits[0]
        also = f" (nor {', '.join(repr(a) for a in aliases)})" if aliases else ""
        shown = ", ".join(repr(_header_text(export.header, i)) for i in range(len(export.header)))
        message = f"missing column {column!r}{also}, which mapping {export.mapping_ref} reads"
        issues.append(Issue(here, COLUMN_MISSING, f"{message}; the header has {shown}"))
        return -1

    date = find(mapping.date.column, mapping.date.aliases)
    values = tuple((c, find(c.column, c.aliases)) for c in mapping.columns)
    first_of = None if mapping.rows.first_of is None else find(mapping.rows.first_of)
    exclude = tuple(find(name) for name in mapping.rows.exclude_when_filled)
    if issues:
        return None, issues
    return _Columns(date, values, first_of, exclude), issues
