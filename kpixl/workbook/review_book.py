"""Write the review for renewal (``kpixl review -o``): bilingual tables and an attainment chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xlsxwriter

from kpixl.atomic import atomic_path
from kpixl.engine.review import Review
from kpixl.workbook.exact import ExactWorksheet

SHEET = "Review"


def write_review(review: Review, path: str | Path) -> None:
    """Write the review as one A4 sheet: attainment per period (with chart), fee, exit clause.

    Args:
        review: the review from :func:`kpixl.engine.review.review`.
        path: the ``.xlsx`` file to create or replace, atomically.
    """
    with atomic_path(path) as temp:
        book = xlsxwriter.Workbook(str(temp))
        try:
            _fill(book, review)
        finally:
            book.close()


def _fill(book: xlsxwriter.Workbook, review: Review) -> None:
    sheet = book.add_worksheet(SHEET, worksheet_class=ExactWorksheet)
    f = _formats(book, review.decimals)
    sheet.write(
        0, 0, f"Review for renewal 续约复盘 — {review.contract} ({review.currency})", f["title"]
    )
    n = len(review.periods)
    # Attainment per KPI and period, then the 100 % target line the chart draws.
    sheet.write_row(2, 0, ["KPI / period 期间", *review.periods], f["bold"])
    for k, kpi in enumerate(review.kpis):
        sheet.write_string(3 + k, 0, kpi.code)
        for i, a in enumerate(kpi.attainment):
            sheet.write_number(3 + k, 1 + i, a, f["percent"])
    target_row = 3 + len(review.kpis)
    sheet.write_string(target_row, 0, "target 目标 100 %")
    for i in range(n):
        sheet.write_number(target_row, 1 + i, 1.0, f["percent"])
    r = target_row + 2
    sheet.write_row(
        r,
        0,
        [
            "KPI",
            "at/above target 达标期数",
            "below threshold 低于门槛",
            "1st half avg 前半均值",
            "2nd half avg 后半均值",
        ],
        f["bold"],
    )
    for kpi in review.kpis:
        r += 1
        sheet.write_string(r, 0, kpi.code)
        sheet.write_number(r, 1, kpi.at_or_above_target)
        _maybe(sheet, r, 2, kpi.below_threshold, None)
        _maybe(sheet, r, 3, kpi.first_half_attainment, f["percent"])
        _maybe(sheet, r, 4, kpi.second_half_attainment, f["percent"])
    r = _fee_table(sheet, review, f, r + 2)
    r = _exit_rows(sheet, review, f, r + 2)
    if n:
        chart = book.add_chart({"type": "line"})
        for k in range(len(review.kpis) + 1):
            row = 3 + k
            chart.add_series(
                {
                    "name": [SHEET, row, 0],
                    "categories": [SHEET, 2, 1, 2, n],
                    "values": [SHEET, row, 1, row, n],
                    "marker": {"type": "none" if row == target_row else "circle"},
                    "line": {"dash_type": "dash"} if row == target_row else {},
                }
            )
        chart.set_title({"name": "Attainment 达成率"})
        chart.set_y_axis({"num_format": "0%"})
        chart.set_size({"width": 620, "height": 300})
        sheet.insert_chart(r + 2, 0, chart)
        r += 18
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, max(n, 8), 15)
    sheet.set_paper(9)  # A4
    sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.print_area(0, 0, r, max(n, 8))
    sheet.set_header(f"&L{review.contract}&RReview 续约复盘")
    sheet.set_footer("&CPage &P / &N")


def _fee_table(sheet: Any, review: Review, f: dict[str, Any], r: int) -> int:
    fee = review.fee
    header = [
        "period 期间",
        "base 基础",
        "bonus 奖金",
        "total 合计",
        "revenue 营收",
        "fee % revenue 费率",
        "growth vs first 较首期增长",
        "over baseline 较基线",
    ]
    sheet.write_row(r, 0, header, f["bold"])
    for p in fee.periods:
        r += 1
        sheet.write_string(r, 0, p.period)
        for c, value in enumerate((p.base, p.bonus, p.total), start=1):
            sheet.write_number(r, c, value, f["money"])
        _maybe(sheet, r, 4, p.revenue, f["money"])
        _maybe(sheet, r, 5, p.fee_share_of_revenue, f["percent"])
        _maybe(sheet, r, 6, p.revenue_growth, f["percent"])
        _maybe(sheet, r, 7, p.revenue_over_baseline, f["percent"])
    r += 1
    sheet.write_string(r, 0, "total 合计", f["bold"])
    for c, value in enumerate((fee.base, fee.bonus, fee.total), start=1):
        sheet.write_number(r, c, value, f["money"])
    _maybe(sheet, r, 4, fee.revenue, f["money"])
    _maybe(sheet, r, 5, fee.fee_share_of_revenue, f["percent"])
    _maybe(sheet, r, 6, fee.revenue_growth, f["percent"])
    r += 2
    sheet.write_string(r, 0, "pool 奖金池 (100 %)")
    sheet.write_number(r, 1, fee.pool, f["money"])
    sheet.write_string(r, 2, "bonus / pool 奖金占比")
    _maybe(sheet, r, 3, fee.bonus_share_of_pool, f["percent"])
    return r


def _exit_rows(sheet: Any, review: Review, f: dict[str, Any], r: int) -> int:
    if review.exit is not None:
        e = review.exit
        rows: list[tuple[str, Any]] = [
            ("misses 未达标期数", e.misses),
            ("missed periods 未达标期间", ", ".join(e.missed_periods) or "—"),
            ("longest streak 最长连续", e.longest_streak),
            (f"exit now 可退出 ({e.consecutive} in a row < {e.threshold:g})",
             "yes 是" if e.exit_eligible_now else "no 否"),
        ]  # fmt: skip
    else:
        rows = [("exit clause 退出机制", "none 无")]
    a = review.adjustments
    rows.append(("adjustments 调整次数", a.count))
    if a.fee_effect is not None:
        rows.append(("adjustments fee effect 调整影响", a.fee_effect))
    for label, value in rows:
        sheet.write_string(r, 0, label, f["bold"])
        if isinstance(value, str):
            sheet.write_string(r, 1, value)
        else:
            sheet.write_number(r, 1, value)
        r += 1
    return r


def _maybe(sheet: Any, r: int, c: int, value: float | None, fmt: Any) -> None:
    if value is None:
        sheet.write_string(r, c, "—")
    else:
        sheet.write_number(r, c, value, fmt)


def _formats(book: xlsxwriter.Workbook, decimals: int) -> dict[str, Any]:
    money = "#,##0" if decimals == 0 else "#,##0." + "0" * decimals
    return {
        "title": book.add_format({"bold": True, "font_size": 13}),
        "bold": book.add_format({"bold": True, "text_wrap": True}),
        "money": book.add_format({"num_format": money}),
        "percent": book.add_format({"num_format": "0.0%"}),
    }
