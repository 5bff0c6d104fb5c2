"""The rows of a workbook's first sheet, loaded safely: a daily file kept as ``.xlsx``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kpixl.errors import Issue, WorkbookError
from kpixl.workbook.safety import load_openpyxl


def first_sheet_rows(path: Path) -> tuple[list[Any], list[list[Any]], int]:
    """The header row, the data rows (cell values) and the first data row's number, first sheet.

    Raises:
        WorkbookError: the file is refused by the safety checks or cannot be read, or is empty.
    """
    book, issues = load_openpyxl(path, label=str(path))
    errors = [issue for issue in issues if issue.severity == "error"]
    if book is None or errors:
        if book is not None:
            book.close()
        raise WorkbookError.from_issues(errors or [Issue(str(path), "KX721", "cannot read")])
    try:
        sheet = book.worksheets[0]
        table = [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    top = 0
    while top < len(table) and all(cell is None for cell in table[top]):
        top += 1
    if top == len(table):
        empty = Issue.at(str(path), "KX230", "is empty", sheet=sheet.title)
        raise WorkbookError.from_issues([empty])
    return table[top], table[top + 1 :], top + 2
