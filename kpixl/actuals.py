"""Actuals and adjustments (SPEC §4): read from CSV or sheet rows, checked against a contract."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kpixl.engine._arrays import FloatArray
from kpixl.errors import ActualsError, Issue
from kpixl.model import Contract

Cell = str | float | int | bool | dt.date | None
ADJUSTMENT_COLUMNS = ("period", "metric", "value", "reason", "approved_by")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")
_QUARTER = re.compile(r"^(\d{4})\s*-?\s*[Qq]([1-4])$")


@dataclass(frozen=True, slots=True)
class ActualsRow:
    """One row of actuals as read: the period cell and the raw metric cells."""

    line: int
    period: Cell
    cells: dict[str, Cell]


@dataclass(frozen=True)
class Actuals:
    """Actuals as read from a CSV file or a sheet, not yet checked against a contract."""

    source: str
    columns: tuple[str, ...]
    rows: tuple[ActualsRow, ...]

    @classmethod
    def from_rows(
        cls,
        header: Sequence[Cell],
        rows: Sequence[Sequence[Cell]],
        source: str,
        first_line: int = 2,
    ) -> Actuals:
        """Actuals from a header and rows of cells (a sheet's values or parsed CSV).

        Args:
            header: ``period`` then the metric column names.
            rows: one sequence of cells per row; rows with no value at all are skipped.
            source: the file (and sheet) named in messages.
            first_line: the line or row number of the first data row.

        Returns:
            The actuals.

        Raises:
            ActualsError: the header has no ``period`` column or repeats a column.
        """
        names = _header(header, source)
        parsed = [ActualsRow(*row) for row in keyed_rows(names, rows, "period", first_line)]
        columns = tuple(name for name in names if name != "period")
        return cls(source, columns, tuple(parsed))


def keyed_rows(
    names: Sequence[str], rows: Sequence[Sequence[Cell]], key: str, first_line: int
) -> list[tuple[int, Cell, dict[str, Cell]]]:
    """Each non-blank row as (line, its ``key`` cell, the other cells by column name).

    Short rows are padded with blanks; a row with no value at all is skipped.
    """
    parsed = []
    for offset, row in enumerate(rows):
        cells = list(row) + [None] * (len(names) - len(row))
        if all(_blank(cell) for cell in cells):
            continue
        record = dict(zip(names, cells, strict=False))
        parsed.append((first_line + offset, record.pop(key), record))
    return parsed


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A replacement for one period's actual, with its audit trail."""

    line: int
    period: Cell
    metric: str
    value: Cell
    reason: str
    approved_by: str


@dataclass(frozen=True)
class Adjustments:
    """Adjustments as read, not yet checked against a contract."""

    source: str
    rows: tuple[Adjustment, ...]

    @classmethod
    def from_rows(
        cls,
        header: Sequence[Cell],
        rows: Sequence[Sequence[Cell]],
        source: str,
        first_line: int = 2,
    ) -> Adjustments:
        """Adjustments from a header (``period, metric, value, reason, approved_by``) and rows."""
        names = [_text(name).lower() for name in header]
        missing = [name for name in ADJUSTMENT_COLUMNS if name not in names]
        if missing:
            issue = Issue(source, "KX211", f"adjustments need the columns {', '.join(missing)}")
            raise ActualsError.from_issues([issue])
        parsed = []
        for offset, row in enumerate(rows):
            if all(_blank(cell) for cell in row):
                continue
            cells = list(row) + [None] * (len(names) - len(row))
            record = dict(zip(names, cells, strict=False))
            parsed.append(
                Adjustment(
                    first_line + offset,
                    record["period"],
                    _text(record["metric"]),
                    record["value"],
                    _text(record["reason"]),
                    _text(record["approved_by"]),
                )
            )
        return cls(source, tuple(parsed))


@dataclass(frozen=True, slots=True)
class AdjustmentRecord:
    """An applied adjustment: the audit trail carried into the settlement."""

    period: str
    metric: str
    original: float | None
    adjusted: float
    reason: str
    approved_by: str


@dataclass(frozen=True)
class PeriodData:
    """Actuals checked against a contract: settled periods and one array per column."""

    indices: tuple[int, ...]
    values: dict[str, FloatArray]
    adjustments: tuple[AdjustmentRecord, ...] = field(default=())


def read_actuals(path: str | Path, encoding: str | None = None) -> Actuals:
    """Read an actuals CSV (comma, semicolon or tab separated).

    UTF-8 with or without BOM and UTF-16 with BOM are read as such; ``encoding`` says how to
    read any other text (``gb18030`` from Excel on Chinese Windows). An .xlsx is read by
    :func:`kpixl.read_actuals` (the workbook layer's safe loading), not here.

    Args:
        path: the CSV file.
        encoding: the text encoding of a file that is neither UTF-8 nor marked by a BOM.

    Returns:
        The actuals, still to be checked against a contract by :func:`resolve`.

    Raises:
        ActualsError: the file cannot be read or has no usable header.
    """
    source = str(path)
    header, rows = _read_csv(Path(path), source, encoding)
    return Actuals.from_rows(header, rows, source)


def read_adjustments(path: str | Path, encoding: str | None = None) -> Adjustments:
    """Read an adjustments CSV: ``period, metric, value, reason, approved_by``."""
    source = str(path)
    header, rows = _read_csv(Path(path), source, encoding)
    return Adjustments.from_rows(header, rows, source)


def read_table(
    path: Path, source: str, encoding: str | None = None
) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a CSV file (``,`` ``;`` or tab; text decoded as :func:`decode_text`).

    Raises:
        ActualsError: the file cannot be read, is not text in a known encoding or is empty
            (KX200, KX201, KX208).
    """
    return _read_csv(path, source, encoding)


_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _fail(source: str, code: str, message: str) -> ActualsError:
    issue = Issue(source, code, message)
    return ActualsError(str(issue), [issue])


def decode_text(data: bytes, source: str, encoding: str | None) -> str:
    """Text of a CSV: a BOM decides, else UTF-8, else ``encoding``; a workbook is named as such.

    Raises:
        ActualsError: KX208 for a file that is not text (an .xlsx, an old .xls, binary data),
            KX200 for text in an encoding not given.
    """
    if data.startswith(codecs.BOM_UTF8):
        data, encoding = data[len(codecs.BOM_UTF8) :], "utf-8"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif data.startswith(_ZIP_MAGIC):
        raise _fail(source, "KX208", "is a zip/.xlsx package, not CSV text; give it as .xlsx")
    elif data.startswith(_OLE_MAGIC):
        message = "is an old binary .xls workbook; save it as .xlsx or CSV (UTF-8)"
        raise _fail(source, "KX208", message)
    elif b"\x00" in data[:4096]:
        raise _fail(source, "KX208", "is neither CSV text nor an .xlsx workbook (binary data)")
    else:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            if encoding is None:
                from kpixl.intake.read import encoding_hint  # kpixl.intake: ~30 ms to import

                message = (
                    f"not UTF-8 text (byte {e.start}); save the CSV as UTF-8, or say how it is "
                    f"encoded with --encoding (Excel on Chinese Windows: gb18030)"
                    f"{encoding_hint(data)}"
                )
                raise _fail(source, "KX200", message) from e
    try:
        return data.decode(encoding or "utf-8")
    except LookupError as e:
        raise _fail(source, "KX200", f"unknown encoding {encoding!r}") from e
    except UnicodeDecodeError as e:
        raise _fail(source, "KX200", f"not {encoding} text (byte {e.start})") from e


def actuals_from_bytes(raw: bytes, source: str, encoding: str | None = None) -> Actuals:
    """Read actuals from a CSV file's bytes (``source`` names it in messages; never opened)."""
    header, rows = _parse_csv(raw, source, encoding)
    return Actuals.from_rows(header, rows, source)


def adjustments_from_bytes(raw: bytes, source: str, encoding: str | None = None) -> Adjustments:
    """Read adjustments from a CSV file's bytes (``source`` names it in messages)."""
    header, rows = _parse_csv(raw, source, encoding)
    return Adjustments.from_rows(header, rows, source)


def _read_csv(
    path: Path, source: str, encoding: str | None = None
) -> tuple[list[str], list[list[str]]]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ActualsError.from_issues([Issue(source, "KX200", f"cannot read: {e}")]) from e
    return _parse_csv(data, source, encoding)


def _parse_csv(
    data: bytes, source: str, encoding: str | None = None
) -> tuple[list[str], list[list[str]]]:
    text = decode_text(data, source, encoding)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ActualsError.from_issues([Issue(source, "KX201", "the file is empty")])
    delimiter = max(",;\t", key=lines[0].count)
    try:
        table = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as e:
        raise ActualsError.from_issues([Issue(source, "KX201", f"not a valid CSV: {e}")]) from e
    return table[0], table[1:]


def _header(header: Sequence[Cell], source: str) -> list[str]:
    names = [_text(name) for name in header]
    while names and not names[-1]:
        names.pop()
    issues = []
    if "period" not in names:
        issues.append(Issue(source, "KX201", "the header has no 'period' column"))
    repeated = sorted({name for name in names if names.count(name) > 1 and name})
    if repeated:
        issues.append(Issue(source, "KX202", f"columns appear twice: {', '.join(repeated)}"))
    if issues:
        raise ActualsError.from_issues(issues)
    return names


def _text(cell: Cell) -> str:
    return "" if cell is None else str(cell).strip()


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def parse_number(cell: Cell) -> float:
    """A number from a cell: ``1,234.5``, ``12%`` (0.12), ``-3``; anything else is refused.

    Args:
        cell: the raw cell.

    Returns:
        The value.

    Raises:
        ValueError: with a message fit for a user (empty, not a number, not finite).
    """
    if type(cell) is float and math.isfinite(cell):
        return cell  # the common case from sheets and generated data: nothing to parse
    if _blank(cell):
        raise ValueError("is empty")
    if isinstance(cell, bool) or isinstance(cell, dt.date):
        raise ValueError(f"is not a number: {cell!r}")
    if isinstance(cell, int | float):
        value = float(cell)
    else:
        text = str(cell).strip().replace("\u00a0", "").replace(" ", "")
        percent = text.endswith("%")
        body = text[:-1] if percent else text
        if _THOUSANDS.match(body):
            body = body.replace(",", "")
        try:
            value = float(body)
        except ValueError:
            raise ValueError(f"is not a number: {str(cell).strip()!r}") from None
        if percent:
            value = value / 100
    if not math.isfinite(value):
        raise ValueError(f"is not a finite number: {cell!r}")
    return value


def period_index(contract: Contract, cell: Cell) -> int:
    """The 1-based period a cell names: ``2027-01``, ``2027-Q1``, a date or a period number.

    Raises:
        ValueError: the label is malformed or outside the contract.
    """
    label = _label(cell, contract.period)
    if label.isdigit():
        index = int(label)
        if 1 <= index <= contract.periods:
            return index
        raise ValueError(f"period number {index} is outside the contract (1..{contract.periods})")
    number = contract.period_numbers.get(label)
    if number is not None:
        return number
    labels = contract.period_labels
    raise ValueError(
        f"period {label!r} is outside the contract ({labels[0]} .. {labels[-1]}, "
        f"by {contract.period})"
    )


def _label(cell: Cell, period: str) -> str:
    if isinstance(cell, dt.date):
        return _month_label(cell.year, cell.month, period)
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    text = _text(cell)
    if match := _MONTH.match(text):
        return _month_label(int(match[1]), int(match[2]), period)
    if match := _QUARTER.match(text):
        return f"{match[1]}-Q{match[2]}"
    return text


def _month_label(year: int, month: int, period: str) -> str:
    if not 1 <= month <= 12:
        return f"{year}-{month:02d}"
    if period == "quarter":
        return f"{year:04d}-Q{(month - 1) // 3 + 1}"
    return f"{year:04d}-{month:02d}"


def resolve(
    contract: Contract, actuals: Actuals, adjustments: Adjustments | None = None
) -> PeriodData:
    """Check actuals (and adjustments) against a contract and turn them into arrays.

    Args:
        contract: the contract whose columns and periods apply.
        actuals: the actuals as read.
        adjustments: optional replacements with reason and approver.

    Returns:
        One float array per needed column, aligned with the settled periods.

    Raises:
        ActualsError: every problem found, each naming the file, the period and the column.
    """
    needed = contract.required_columns
    issues = [
        Issue(actuals.source, "KX203", f"missing column {column!r}, needed by {who}")
        for column, who in needed.items()
        if column not in actuals.columns
    ]
    if issues:
        raise ActualsError.from_issues(issues)
    by_period, issues = _rows_by_period(contract, actuals)
    records: list[AdjustmentRecord] = []
    if adjustments is not None:
        records, more = _apply_adjustments(contract, actuals, adjustments, by_period)
        issues.extend(more)
    indices = sorted(by_period)
    values = {column: np.empty(len(indices)) for column in needed}
    for i, index in enumerate(indices):
        row, cells = by_period[index]
        for column in needed:
            try:
                values[column][i] = parse_number(cells.get(column))
            except ValueError as e:
                issues.append(_cell_issue(actuals.source, contract, index, column, str(e)))
    if not issues:
        issues.extend(_check_values(contract, actuals.source, indices, values))
        issues.extend(_check_gaps(contract, actuals.source, indices))
    if issues:
        raise ActualsError.from_issues(issues)
    return PeriodData(tuple(indices), values, tuple(records))


def _cell_issue(source: str, contract: Contract, index: int, column: str, message: str) -> Issue:
    label = contract.period_label(index)
    return Issue(f"{source}: period {label}, column {column}", "KX204", message)


def _rows_by_period(
    contract: Contract, actuals: Actuals
) -> tuple[dict[int, tuple[int, dict[str, Cell]]], list[Issue]]:
    needed = contract.required_columns
    by_period: dict[int, tuple[int, dict[str, Cell]]] = {}
    issues: list[Issue] = []
    for row in actuals.rows:
        where = f"{actuals.source}: line {row.line}"
        try:
            index = period_index(contract, row.period)
        except ValueError as e:
            issues.append(Issue(where, "KX205", str(e)))
            continue
        if all(_blank(row.cells.get(column)) for column in needed):
            continue  # a period whose actuals are not known yet is simply not settled
        if index in by_period:
            first = by_period[index][0]
            label = contract.period_label(index)
            issues.append(
                Issue(where, "KX206", f"period {label} appears twice (also line {first})")
            )
            continue
        by_period[index] = (row.line, dict(row.cells))
    return by_period, issues


def _apply_adjustments(
    contract: Contract,
    actuals: Actuals,
    adjustments: Adjustments,
    by_period: dict[int, tuple[int, dict[str, Cell]]],
) -> tuple[list[AdjustmentRecord], list[Issue]]:
    records: list[AdjustmentRecord] = []
    issues: list[Issue] = []
    seen: dict[tuple[int, str], int] = {}
    for adj in adjustments.rows:
        where = f"{adjustments.source}: line {adj.line}"
        try:
            index = period_index(contract, adj.period)
            value = parse_number(adj.value)
        except ValueError as e:
            issues.append(Issue(where, "KX212", str(e)))
            continue
        label = contract.period_label(index)
        where = f"{adjustments.source}: line {adj.line} (period {label}, column {adj.metric})"
        problem = _adjustment_problem(adj, actuals, index, by_period, seen)
        if problem:
            issues.append(Issue(where, "KX213", problem))
            continue
        seen[(index, adj.metric)] = adj.line
        cells = by_period[index][1]
        try:
            original: float | None = parse_number(cells.get(adj.metric))
        except ValueError:
            original = None
        cells[adj.metric] = value
        records.append(
            AdjustmentRecord(label, adj.metric, original, value, adj.reason, adj.approved_by)
        )
    return records, issues


def _adjustment_problem(
    adj: Adjustment,
    actuals: Actuals,
    index: int,
    by_period: dict[int, tuple[int, dict[str, Cell]]],
    seen: dict[tuple[int, str], int],
) -> str | None:
    if not adj.reason:
        return "an adjustment needs a reason"
    if not adj.approved_by:
        return "an adjustment needs an approver (approved_by)"
    if adj.metric not in actuals.columns:
        return f"column {adj.metric!r} is not in the actuals ({', '.join(actuals.columns)})"
    if index not in by_period:
        return "there are no actuals for this period to adjust"
    if (index, adj.metric) in seen:
        return f"adjusted twice (also line {seen[(index, adj.metric)]})"
    return None


def _check_values(
    contract: Contract, source: str, indices: list[int], values: dict[str, FloatArray]
) -> list[Issue]:
    issues = []
    for column, why in contract.non_negative_columns.items():
        denominator = why.startswith("the denominator")
        for i, index in enumerate(indices):
            value = float(values[column][i])
            if denominator and value == 0:
                issues.append(_cell_issue(source, contract, index, column, f"is 0, but is {why}"))
            elif value < 0:
                issues.append(
                    _cell_issue(source, contract, index, column, f"is negative ({value:g}); {why}")
                )
    return issues


def _check_gaps(contract: Contract, source: str, indices: list[int]) -> list[Issue]:
    if contract.settlement != "cumulative" or not indices:
        return []
    missing = [p for p in range(1, indices[-1] + 1) if p not in indices]
    if not missing:
        return []
    labels = ", ".join(contract.period_label(p) for p in missing)
    message = f"cumulative settlement needs every period up to the last one given; missing {labels}"
    return [Issue(source, "KX207", message)]
