"""The evidence table on the Actuals sheet: what ``kpixl ingest`` read, and the figures it gave.

``kpixl quote --evidence E.json --actuals A.csv`` writes it beside the actuals (to the right of
the actuals and adjustments tables, which the reader scans downwards); ``kpixl recalc`` patches
only formula caches, so it stays; ``kpixl validate`` warns (KX249) when a complete period's
actuals no longer equal the figures recorded with the evidence.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from kpixl.actuals import Actuals, parse_number, period_index
from kpixl.errors import IntakeError, Issue
from kpixl.intake.evidence import Evidence
from kpixl.intake.issues import EVIDENCE_CHANGED, EVIDENCE_INVALID
from kpixl.model import Contract
from kpixl.workbook.layout import ACTUALS, ADJUSTMENT_HEADER, Lang, Layout, cell, label

#: The defined name of the sources table (header row included), for the Statement and others.
EVIDENCE_NAME = "KPIXL_EVIDENCE"
#: The defined name of the periods table: period, days with data, complete, recorded figures.
EVIDENCE_PERIODS_NAME = "KPIXL_EVIDENCE_PERIODS"
SOURCE_HEADER = ("file", "mapping", "sha256", "rows", "first_date", "last_date", "through")
PERIOD_HEADER = ("period", "days_with_data", "complete")
TITLE = ("Evidence (kpixl ingest)", "数据证据（kpixl ingest）")
RECORDED = "recorded "  # prefix of a recorded figure's column: "recorded gmv"
#: The sheet the evidence table sits on.
EVIDENCE_SHEET = ACTUALS


@dataclass(frozen=True)
class EvidenceTable:
    """The evidence and, per complete period, the figures of each Actuals column it recorded."""

    evidence: Evidence
    figures: dict[str, dict[str, float]]


def evidence_column(layout: Layout) -> int:
    """First column of the evidence table: one blank column right of actuals and adjustments."""
    used = max(layout.actual_col(layout.metrics[-1]) + 1, len(ADJUSTMENT_HEADER))
    return used + 1


def recorded_table(contract: Contract, evidence: Evidence, actuals: Actuals) -> EvidenceTable:
    """Pair the evidence with the actuals ingest wrote: each complete period's figures.

    Raises:
        IntakeError: the evidence is for another contract, or a complete period it lists has
            no actuals row (KX248).
    """
    if evidence.contract != contract.id:
        message = f"the evidence is for contract {evidence.contract!r}, not {contract.id!r}"
        raise IntakeError.from_issues([Issue("--evidence", EVIDENCE_INVALID, message)])
    metrics = Layout(contract).metrics
    rows: dict[str, dict[str, float]] = {}
    for row in actuals.rows:
        try:
            index = period_index(contract, row.period)
        except ValueError:
            continue  # resolve() names it
        values = {}
        for metric in metrics:
            try:
                values[metric] = parse_number(row.cells.get(metric))
            except ValueError:
                continue
        rows[contract.period_label(index)] = values
    missing = [label for label in evidence.complete_periods if label not in rows]
    if missing:
        message = (
            f"the evidence lists {', '.join(missing)} as complete, but the actuals "
            f"({actuals.source}) have no row for it"
        )
        raise IntakeError.from_issues([Issue("--evidence", EVIDENCE_INVALID, message)])
    figures = {label: rows[label] for label in evidence.complete_periods}
    return EvidenceTable(evidence, figures)


def evidence_cells(layout: Layout, table: EvidenceTable, lang: Lang) -> dict[str, Any]:
    """Every cell of the evidence table by A1 address on Actuals (values as written)."""
    col = evidence_column(layout)
    cells: dict[str, Any] = {cell(0, col): label(*TITLE, lang)}
    for c, name in enumerate(SOURCE_HEADER):
        cells[cell(1, col + c)] = name
    evidence = table.evidence
    for r, source in enumerate(evidence.sources, start=2):
        row = (
            source.file,
            source.mapping,
            source.sha256,
            source.rows,
            _date(source.first_date),
            _date(source.last_date),
            evidence.through.isoformat(),
        )
        for c, value in enumerate(row):
            cells[cell(r, col + c)] = value
    top = _periods_top(evidence)
    metrics = layout.metrics
    for c, name in enumerate((*PERIOD_HEADER, *(RECORDED + m for m in metrics))):
        cells[cell(top, col + c)] = name
    for r, period in enumerate(evidence.periods, start=top + 1):
        figures = table.figures.get(period.period, {})
        row_values: tuple[Any, ...] = (
            period.period,
            period.days_with_data,
            "yes" if period.complete else "no",
            *(figures.get(m) for m in metrics),
        )
        for c, value in enumerate(row_values):
            cells[cell(r, col + c)] = value
    return cells


#: The Statement's copy of the sources table: its columns, left to right (SHA-256 in the wide one).
STATEMENT_SOURCE_COLUMNS = (
    "file",
    "mapping",
    "rows",
    "first_date",
    "last_date",
    "through",
    "sha256",
)


def statement_evidence_cells(first_row: int, evidence: Evidence) -> dict[str, Any]:
    """The sources of the actuals as the Statement shows them, from ``first_row`` (0-based) down.

    A header row, then one row per source: what was read, when it starts and ends, through
    which date the data are complete, and the file's SHA-256 (the same figures as the table
    beside the actuals, which stays the record ``kpixl validate`` checks).
    """
    cells: dict[str, Any] = {
        cell(first_row, c): name for c, name in enumerate(STATEMENT_SOURCE_COLUMNS)
    }
    for r, source in enumerate(evidence.sources, start=first_row + 1):
        row = (
            source.file,
            source.mapping,
            source.rows,
            _date(source.first_date),
            _date(source.last_date),
            evidence.through.isoformat(),
            source.sha256,
        )
        for c, value in enumerate(row):
            cells[cell(r, c)] = value
    return cells


def evidence_names(layout: Layout, evidence: Evidence) -> dict[str, str]:
    """The defined names of the two evidence tables."""
    col = evidence_column(layout)
    last_source = 1 + len(evidence.sources)
    top = _periods_top(evidence)
    width = len(PERIOD_HEADER) + len(layout.metrics)
    return {
        EVIDENCE_NAME: f"{ACTUALS}!{cell(1, col, True)}:"
        f"{cell(last_source, col + len(SOURCE_HEADER) - 1, True)}",
        EVIDENCE_PERIODS_NAME: f"{ACTUALS}!{cell(top, col, True)}:"
        f"{cell(top + len(evidence.periods), col + width - 1, True)}",
    }


def _periods_top(evidence: Evidence) -> int:
    return 1 + len(evidence.sources) + 2


def _date(day: dt.date | None) -> str:
    return "" if day is None else day.isoformat()


def evidence_issues(label_: str, sheet: Any, layout: Layout) -> list[Issue]:
    """KX249 (warning) for each recorded figure the Actuals sheet no longer holds.

    Args:
        label_: the workbook's name in messages.
        sheet: the Actuals worksheet (openpyxl, formulas or values).
        layout: the workbook's layout.

    Returns:
        One warning per changed figure, naming the period, the column and both values.
    """
    col = evidence_column(layout)
    title = _value(sheet, 0, col)
    if not isinstance(title, str) or not title.startswith((TITLE[0], TITLE[1])):
        return []
    top = 2
    while not _blank(_value(sheet, top, col)):
        top += 1
    top += 1  # the blank row between the tables
    header = [_value(sheet, top, col + c) for c in range(len(PERIOD_HEADER) + len(layout.metrics))]
    recorded = {
        str(name).removeprefix(RECORDED): col + c
        for c, name in enumerate(header)
        if isinstance(name, str) and name.startswith(RECORDED)
    }
    rows = {layout.contract.period_label(p): p for p in range(1, layout.n + 1)}
    issues = []
    r = top + 1
    while not _blank(_value(sheet, r, col)):
        period = str(_value(sheet, r, col)).strip()
        complete = str(_value(sheet, r, col + 2)).strip() == "yes"
        p = rows.get(period)
        if complete and p is not None:
            for metric, c in recorded.items():
                if metric not in layout.metrics:
                    continue
                issue = _compare(label_, sheet, layout, period, p, metric, (r, c))
                if issue is not None:
                    issues.append(issue)
        r += 1
    return issues


def _compare(
    label_: str,
    sheet: Any,
    layout: Layout,
    period: str,
    p: int,
    metric: str,
    at: tuple[int, int],
) -> Issue | None:
    want = _value(sheet, *at)
    if _blank(want):
        return None
    ref = cell(p, layout.actual_col(metric))
    have = _value(sheet, p, layout.actual_col(metric))
    try:
        same = math.isclose(parse_number(have), parse_number(want), rel_tol=0, abs_tol=1e-9)
    except ValueError:
        same = False
    if same:
        return None
    message = (
        f"period {period}, column {metric}: {have!r} differs from {want!r}, the figure recorded "
        f"with the evidence at {ACTUALS}!{cell(*at)} (the actuals changed after ingest)"
    )
    return Issue(f"{label_}:{ACTUALS}!{ref}", EVIDENCE_CHANGED, message, "warning")


def _value(sheet: Any, row: int, col: int) -> Any:
    return sheet.cell(row + 1, col + 1).value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
