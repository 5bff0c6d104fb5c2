"""Paste a daily file's rows into a workbook's Pacing sheet, as a person pastes them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kpixl.actuals import parse_number
from kpixl.atomic import atomic_path
from kpixl.daily import DailyRows, parse_date
from kpixl.workbook.layout import PACING, Layout, cell
from kpixl.workbook.pacing_sheet import PacingLayout
from kpixl.workbook.read import read_book


def paste_daily(workbook: Path, daily: DailyRows, out: Path) -> int:
    """Paste a daily file's rows into the Pacing sheet's daily block, as a person pastes them.

    Dates go in as dates and figures as numbers, in the block's column order; the as-of date
    is left as it is (blank: the last pasted day). Rows beyond the block are not pasted.

    Args:
        workbook: a kpixl workbook.
        daily: the daily rows (``kpixl.daily.read_daily``).
        out: where to write the workbook (atomically; may be ``workbook``).

    Returns:
        The number of rows pasted.
    """
    import openpyxl

    book = openpyxl.load_workbook(workbook)
    contract, _actuals, _adjustments = read_book(book, workbook.name)
    block = PacingLayout(Layout(contract)).daily
    sheet = book[PACING]
    rows = daily.rows[: block.days]
    for i, row in enumerate(rows):
        at = block.first_day_row + i
        day = _day(row.date)
        sheet[cell(at, 0)] = row.date if day is None else dt.datetime.combine(day, dt.time())
        for c, name in enumerate(block.columns, start=1):
            value = row.cells.get(name)
            sheet[cell(at, c)] = _pasted_number(value)
    with atomic_path(out) as temp:
        book.save(temp)
    return len(rows)


def _day(value: Any) -> dt.date | None:
    """A date cell or ``YYYY-MM-DD`` text as a day (what a spreadsheet makes of it), or None."""
    try:
        return parse_date(value)
    except ValueError:
        return None


def _pasted_number(value: Any) -> Any:
    """A figure as a spreadsheet reads a pasted cell: a number when it is one, else as is."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_number(value)
    except ValueError:
        return value
