"""Tables in xlsx files of unknown origin: platform exports, actuals and adjustments workbooks.

Every file goes through the safe loading of ``kpixl validate`` first; the sheet is streamed
row by row with its ``<dimension>`` ignored, so memory stays bounded by one row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from kpixl.actuals import Actuals, Adjustments
from kpixl.actuals import actuals_from_bytes as actuals_from_csv_bytes
from kpixl.actuals import adjustments_from_bytes as adjustments_from_csv_bytes
from kpixl.actuals import read_actuals as read_actuals_csv
from kpixl.actuals import read_adjustments as read_adjustments_csv
from kpixl.errors import Issue, WorkbookError

Row = tuple[int, tuple[Any, ...]]
XLSX_MAGIC = b"PK\x03\x04"


def is_xlsx(path: Path) -> bool:
    """True when the file starts like a zip package (what an .xlsx is), whatever its name."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(XLSX_MAGIC)) == XLSX_MAGIC
    except OSError:
        return False


class SheetRows:
    """One sheet of a safely loaded workbook, streamed as ``(row number, values)``.

    Use as a context manager; ``sheet`` is the sheet's name and ``rows`` the stream.
    """

    def __init__(self, path: Path, label: str, sheet: str | None = None) -> None:
        # Imported here: `kpixl settle` of CSV files needs neither (kpixl.intake: ~20 ms).
        from kpixl.intake.issues import EXPORT_UNREADABLE
        from kpixl.workbook.safety import load_openpyxl

        book, issues = load_openpyxl(path, label=label, read_only=True, data_only=True)
        errors = [issue for issue in issues if issue.severity == "error"]
        if book is None or errors:
            raise WorkbookError.from_issues(errors or issues)
        self._book = book
        self.label = label
        names = [ws.title for ws in book.worksheets]
        if not names or (sheet is not None and sheet not in names):
            book.close()
            wanted = "a worksheet" if sheet is None else f"a sheet named {sheet!r}"
            message = f"has no {wanted} (sheets: {', '.join(names) or 'none'})"
            raise WorkbookError.from_issues([Issue(label, EXPORT_UNREADABLE, message)])
        self.sheet: str = sheet or names[0]
        self._worksheet = book[self.sheet]
        self._streams: list[Generator[Row, None, None]] = []

    @property
    def rows(self) -> Iterator[Row]:
        """The sheet's rows from row 1, empty ones included, numbered as Excel numbers them."""
        stream = self._stream()
        self._streams.append(stream)
        return stream

    def _stream(self) -> Generator[Row, None, None]:
        worksheet = self._worksheet
        worksheet.reset_dimensions()  # never trust <dimension>: a lying one would pad every row
        try:
            for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
                yield number, tuple(values)
        except WorkbookError:
            raise
        # openpyxl raises anything from KeyError to TypeError on a damaged sheet.
        except Exception as e:  # noqa: BLE001
            where = f"{self.label}: {self.sheet}"
            message = f"cannot read the sheet: {type(e).__name__}: {e}"
            raise WorkbookError.from_issues([Issue(where, "KX721", message)]) from e

    def close(self) -> None:
        """Release the workbook, and the sheet part a stream read only partly still holds."""
        for stream in self._streams:
            stream.close()
        self._book.close()

    def __enter__(self) -> SheetRows:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _table(path: Path, label: str | None = None) -> tuple[str, list[Any], list[list[Any]], int]:
    """The first sheet's header (first non-empty row) and the rows below it."""
    label = str(path) if label is None else label
    with SheetRows(path, label) as sheet:
        header: list[Any] | None = None
        header_number = 0
        rows: list[list[Any]] = []
        for number, values in sheet.rows:
            cells = [_plain(value) for value in values]
            if header is None:
                if any(cell is not None and str(cell).strip() for cell in cells):
                    header, header_number = cells, number
                continue
            rows.append(cells)
        source = f"{label}:{sheet.sheet}"
    if header is None:
        raise WorkbookError.from_issues([Issue(source, "KX201", "the sheet is empty")])
    return source, header, rows, header_number


def _plain(value: Any) -> Any:
    """A cell as the actuals reader takes it: a date cell's date, anything else as typed."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def read_actuals(path: str | Path, encoding: str | None = None) -> Actuals:
    """Read actuals from a CSV or from the first sheet of an .xlsx (same layout, SPEC §4).

    Args:
        path: the file; an .xlsx is recognised by its content, not its name.
        encoding: how to read a CSV that is neither UTF-8 nor marked by a BOM (``gb18030``).

    Returns:
        The actuals, still to be checked against a contract.

    Raises:
        KpixlError: the file cannot be read, is unsafe, or is neither CSV text nor .xlsx.
    """
    path = Path(path)
    if not is_xlsx(path):
        return read_actuals_csv(path, encoding)
    source, header, rows, number = _table(path)
    return Actuals.from_rows(header, rows, source, number + 1)


def read_adjustments(path: str | Path, encoding: str | None = None) -> Adjustments:
    """Read adjustments from a CSV or the first sheet of an .xlsx: period, metric, value, ..."""
    path = Path(path)
    if not is_xlsx(path):
        return read_adjustments_csv(path, encoding)
    source, header, rows, number = _table(path)
    return Adjustments.from_rows(header, rows, source, number + 1)


def actuals_from_bytes(raw: bytes, source: str, encoding: str | None = None) -> Actuals:
    """Actuals from a CSV or .xlsx file's bytes (a batch worker has the bytes, not the file).

    ``source`` is the file's name as the client gave it: messages name it, it is never opened.
    An .xlsx goes through the same safe loading as a file, from a private temporary copy.
    ``encoding`` reads a CSV that is neither UTF-8 nor marked by a BOM (as ``read_actuals``).
    """
    if not raw.startswith(XLSX_MAGIC):
        return actuals_from_csv_bytes(raw, source, encoding)
    with _private_copy(raw) as path:
        where, header, rows, number = _table(path, source)
    return Actuals.from_rows(header, rows, where, number + 1)


def adjustments_from_bytes(raw: bytes, source: str, encoding: str | None = None) -> Adjustments:
    """Adjustments from a CSV or .xlsx file's bytes (``source`` names it in messages)."""
    if not raw.startswith(XLSX_MAGIC):
        return adjustments_from_csv_bytes(raw, source, encoding)
    with _private_copy(raw) as path:
        where, header, rows, number = _table(path, source)
    return Adjustments.from_rows(header, rows, where, number + 1)


@contextlib.contextmanager
def _private_copy(raw: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="kpixl-table-") as folder:
        path = Path(folder) / "table.xlsx"
        path.write_bytes(raw)
        yield path
