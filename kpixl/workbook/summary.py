"""Write the portfolio summary workbook (one sheet per table) with XlsxWriter, deterministically."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter

from kpixl.atomic import atomic_path
from kpixl.workbook.exact import ExactWorksheet

#: Fixed document timestamp: identical inputs give a byte-identical file.
FIXED_CREATED = dt.datetime(2000, 1, 1, 0, 0, 0)
PERCENT = "0.00%"
_WIDTH = 14


@dataclass(frozen=True)
class SummaryTable:
    """One sheet: a header row, rows of plain values, and how to format some columns.

    ``money`` columns use the currency decimals of their row (``decimals``, one per row);
    ``percent`` columns show fractions as percentages. None is written as an empty cell.
    """

    sheet: str
    columns: tuple[str, ...]
    rows: Sequence[Sequence[Any]]
    decimals: Sequence[int] = ()
    money: frozenset[str] = field(default_factory=frozenset)
    percent: frozenset[str] = field(default_factory=frozenset)


def write_summary_xlsx(path: Path, tables: Sequence[SummaryTable]) -> Path:
    """Write tables to an .xlsx file, atomically, with frozen headers and filters.

    Args:
        path: the workbook to create or replace.
        tables: one sheet each, in order.

    Returns:
        The path written.
    """
    options = {
        "in_memory": True,  # zip entries dated 1980-01-01: the bytes depend on the content only
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
    }
    with atomic_path(path) as temp:
        book = xlsxwriter.Workbook(str(temp), options)
        book.set_properties(
            {"title": "kpixl portfolio summary", "author": "kpixl", "created": FIXED_CREATED}
        )
        for table in tables:
            _write_table(book, table)
        book.close()
    return path


def _write_table(book: Any, table: SummaryTable) -> None:
    sheet = book.add_worksheet(table.sheet, worksheet_class=ExactWorksheet)
    bold = book.add_format({"bold": True})
    percent = book.add_format({"num_format": PERCENT})
    money = {
        d: book.add_format({"num_format": _money_format(d)}) for d in sorted(set(table.decimals))
    }
    sheet.write_row(0, 0, table.columns, bold)
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, len(table.columns) - 1, _WIDTH)
    kinds = [
        "money" if name in table.money else "percent" if name in table.percent else ""
        for name in table.columns
    ]
    for r, row in enumerate(table.rows, start=1):
        for c, (value, kind) in enumerate(zip(row, kinds, strict=True)):
            fmt = money[table.decimals[r - 1]] if kind == "money" else percent if kind else None
            _write_cell(sheet, r, c, value, fmt)
    sheet.autofilter(0, 0, max(len(table.rows), 1), len(table.columns) - 1)


def _money_format(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "")


def _write_cell(sheet: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, fmt)
    else:
        # Always as text: contract ids or labels starting with = + - @ must never be formulas.
        sheet.write_string(row, col, str(value), fmt)
