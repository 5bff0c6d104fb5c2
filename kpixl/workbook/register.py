"""Read a portfolio register kept as a workbook: the first sheet's rows, after the safety checks."""

from __future__ import annotations

from pathlib import Path

from kpixl.errors import WorkbookError
from kpixl.workbook.safety import load_openpyxl


def read_first_sheet(path: Path) -> tuple[list[str], list[list[object]]]:
    """The header and rows of a workbook's first sheet, as cached values.

    Args:
        path: an ``.xlsx`` register.

    Returns:
        The header (cells as text) and the rows below it (cells as read: text, numbers, None).

    Raises:
        WorkbookError: the package is refused by the safety checks or cannot be read.
    """
    book, issues = load_openpyxl(path, label=str(path))
    errors = [issue for issue in issues if issue.severity == "error"]
    if book is None or errors:
        raise WorkbookError.from_issues(errors or issues)
    try:
        rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    if not rows:
        return [], []
    header = ["" if cell is None else str(cell) for cell in rows[0]]
    return header, rows[1:]
