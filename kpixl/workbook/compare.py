"""Write a quote comparison (``kpixl compare -o``): fees on one set of outcomes, commitments."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from kpixl.atomic import atomic_path
from kpixl.engine.comparison import BASIS, Comparison
from kpixl.workbook.exact import ExactWorksheet

SHEET = "Compare"
COMMITMENTS_SHEET = "Commitments"
CURVE_SHEET = "FeeByRevenue"
Rows = Sequence[tuple[str, tuple[str, ...]]]


def write_comparison(comparison: Comparison, commitments: Rows, path: str | Path) -> None:
    """Write the comparison workbook, atomically.

    ``Compare``: one row per scenario (outcome columns, then each quote's monthly base,
    bonus, total and share of revenue, then the cheapest) and the crossings;
    ``FeeByRevenue``: monthly total fee of every quote against the revenue outcome, with a
    chart; ``Commitments``: the quotes' terms side by side.

    Args:
        comparison: the comparison from :func:`kpixl.engine.comparison.compare`.
        commitments: rows from :func:`kpixl.engine.commitments.commitment_rows`.
        path: the ``.xlsx`` file to create or replace.
    """
    with atomic_path(path) as temp:
        book = xlsxwriter.Workbook(str(temp))
        try:
            _fill(book, comparison)
            _curve(book, comparison)
            _commitments(book, commitments)
        finally:
            book.close()


def _formats(book: xlsxwriter.Workbook, decimals: int) -> tuple[Format, Format, Format]:
    money = "#,##0" + ("." + "0" * decimals if decimals else "")
    return (
        book.add_format({"bold": True}),
        book.add_format({"num_format": money}),
        book.add_format({"num_format": "0.00%"}),
    )


def _columns(comparison: Comparison) -> list[str]:
    return list(dict.fromkeys(c for s in comparison.scenarios for c, _ in s.outcome))


def _fill(book: xlsxwriter.Workbook, comparison: Comparison) -> None:
    sheet = book.add_worksheet(SHEET, worksheet_class=ExactWorksheet)
    bold, money, percent = _formats(book, comparison.decimals)
    sheet.write(
        0,
        0,
        f"Quotes on the same outcomes 同一业绩下的报价比较 ({comparison.currency}); fee per month "
        f"over each quote's term ({BASIS}); outcomes from {comparison.outcomes_from}",
        bold,
    )
    columns = _columns(comparison)
    header: list[str] = ["scenario 场景", *(f"{c} / month" for c in columns)]
    for name in comparison.names:
        header += [f"{name} base", f"{name} bonus", f"{name} total", f"{name} % revenue"]
    header.append("cheapest 最低")
    sheet.write_row(2, 0, header, bold)
    for r, scenario in enumerate(comparison.scenarios, start=3):
        sheet.write_string(r, 0, scenario.name)
        values = dict(scenario.outcome)
        for c, column in enumerate(columns, start=1):
            if column in values:
                sheet.write_number(r, c, values[column])
        col = 1 + len(columns)
        for fee in scenario.fees:
            sheet.write_number(r, col, fee.base, money)
            sheet.write_number(r, col + 1, fee.bonus, money)
            sheet.write_number(r, col + 2, fee.total, money)
            if fee.share_of_revenue is not None:
                sheet.write_number(r, col + 3, fee.share_of_revenue, percent)
            col += 4
        sheet.write_string(r, col, ", ".join(scenario.cheapest))
    r = 4 + len(comparison.scenarios)
    revenue = comparison.revenue_column or "revenue"
    sheet.write_row(r, 0, ["crossing 交叉点", "from", "to", f"{revenue} / month", "fee"], bold)
    for crossing in comparison.crossings:
        r += 1
        sheet.write_string(r, 0, f"{crossing.before} → {crossing.after}")
        sheet.write_string(r, 1, crossing.first)
        sheet.write_string(r, 2, crossing.second)
        sheet.write_number(r, 3, crossing.revenue, money)
        sheet.write_number(r, 4, crossing.total, money)
    sheet.write_string(
        r + 1,
        0,
        "Crossings: both fees taken as straight lines in revenue between the two neighbouring "
        "outcomes; an estimate, since fees step at thresholds and tiers.",
    )
    for note in comparison.notes:
        r += 1
        sheet.write_string(r + 1, 0, f"note: {note}")
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, len(header), 15)
    sheet.freeze_panes(3, 1)


def _curve(book: xlsxwriter.Workbook, comparison: Comparison) -> None:
    """Fee per month against the revenue outcome, sorted by revenue, with a scatter chart."""
    sheet = book.add_worksheet(CURVE_SHEET, worksheet_class=ExactWorksheet)
    bold, money, _ = _formats(book, comparison.decimals)
    revenue = comparison.revenue_column
    if revenue is None:
        sheet.write_string(0, 0, "No quote has a revenue KPI with a column: no chart.")
        return
    ordered = sorted(
        (s for s in comparison.scenarios if revenue in dict(s.outcome)),
        key=lambda s: dict(s.outcome)[revenue],
    )
    sheet.write_row(0, 0, ["scenario", f"{revenue} / month", *comparison.names], bold)
    for r, scenario in enumerate(ordered, start=1):
        sheet.write_string(r, 0, scenario.name)
        sheet.write_number(r, 1, dict(scenario.outcome)[revenue], money)
        for i, fee in enumerate(scenario.fees):
            sheet.write_number(r, 2 + i, fee.total, money)
    if not ordered:
        return
    chart = book.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    last = len(ordered)
    for i, name in enumerate(comparison.names):
        chart.add_series(
            {
                "name": name,
                "categories": [CURVE_SHEET, 1, 1, last, 1],
                "values": [CURVE_SHEET, 1, 2 + i, last, 2 + i],
            }
        )
    chart.set_title({"name": f"Fee per month vs {revenue} per month ({comparison.currency})"})
    chart.set_x_axis({"name": f"{revenue} per month"})
    chart.set_y_axis({"name": "fee per month"})
    sheet.insert_chart(last + 3, 0, chart, {"x_scale": 1.6, "y_scale": 1.4})
    sheet.set_column(0, 2 + len(comparison.names), 18)


def _commitments(book: xlsxwriter.Workbook, commitments: Rows) -> None:
    sheet: Worksheet = book.add_worksheet(COMMITMENTS_SHEET, worksheet_class=ExactWorksheet)
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    for r, (label, cells) in enumerate(commitments):
        sheet.write_string(r, 0, label, bold)
        for c, text in enumerate(cells, start=1):
            sheet.write_string(r, c, text, bold if r == 0 else wrap)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, max(1, len(commitments[0][1]) if commitments else 1), 42)
    sheet.freeze_panes(1, 1)
