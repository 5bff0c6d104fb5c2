"""Write a quote comparison (``kpixl compare -o``) as a simple XlsxWriter sheet."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from kpixl.atomic import atomic_path
from kpixl.engine.comparison import Comparison

SHEET = "Compare"


def write_comparison(comparison: Comparison, path: str | Path) -> None:
    """Write one row per level (fee and effective rate of each quote, cheapest) and crossings.

    Args:
        comparison: the comparison from :func:`kpixl.engine.comparison.compare`.
        path: the ``.xlsx`` file to create or replace, atomically.
    """
    with atomic_path(path) as temp:
        book = xlsxwriter.Workbook(str(temp))
        try:
            _fill(book, comparison)
        finally:
            book.close()


def _fill(book: xlsxwriter.Workbook, comparison: Comparison) -> None:
    sheet = book.add_worksheet(SHEET)
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0.00"})
    percent = book.add_format({"num_format": "0.00%"})
    level_format = book.add_format({"num_format": "0%"})
    basis = "none" if comparison.gmv_basis is None else f"{comparison.gmv_basis:,.2f}"
    sheet.write(
        0,
        0,
        f"Quote comparison ({comparison.currency}); GMV basis = revenue target of "
        f"{comparison.names[0]}: {basis} per period",
        bold,
    )
    header = ["level 达成率", "GMV"]
    header += [f"{name} fee" for name in comparison.names]
    header += [f"{name} fee % GMV" for name in comparison.names]
    header.append("cheapest 最低")
    sheet.write_row(2, 0, header, bold)
    n = len(comparison.names)
    for r, row in enumerate(comparison.rows, start=3):
        sheet.write_number(r, 0, row.level, level_format)
        if row.gmv is not None:
            sheet.write_number(r, 1, row.gmv, money)
        for i, total in enumerate(row.totals):
            sheet.write_number(r, 2 + i, total, money)
        for i, rate in enumerate(row.rates):
            if rate is not None:
                sheet.write_number(r, 2 + n + i, rate, percent)
        sheet.write_string(r, 2 + 2 * n, ", ".join(row.cheapest))
    r = 4 + len(comparison.rows)
    sheet.write_row(r, 0, ["crossing 交叉点", "level", "fee"], bold)
    for c in comparison.crossings:
        r += 1
        sheet.write_string(r, 0, f"{c.first} = {c.second}")
        sheet.write_number(r, 1, c.level, percent)
        sheet.write_number(r, 2, c.total, money)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 2 + 2 * n, 16)
