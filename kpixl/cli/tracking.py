"""``kpixl pace`` and ``kpixl review``: tracking a contract while it runs."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kpixl.actuals import read_actuals, read_adjustments
from kpixl.cli.app import (
    FormatOption,
    OutputFormat,
    app,
    err,
    fail,
    out,
    output_format,
    print_wide,
)
from kpixl.daily import DailyRows, parse_date, read_daily, resolve_daily
from kpixl.engine.pacing import KpiPace, Pacing, column_kinds, pace
from kpixl.engine.review import Review, review
from kpixl.engine.settle import settle
from kpixl.errors import KpixlError
from kpixl.model import Contract, Kpi, load_contract

SHEET_SUFFIXES = (".xlsx", ".xlsm")


def _as_of(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return parse_date(text)
    except ValueError as e:
        raise typer.BadParameter(f"--as-of {e}") from e


def load_daily(path: Path) -> DailyRows:
    """A daily file: CSV, or the first sheet of an ``.xlsx`` with the same layout."""
    if path.suffix.lower() in SHEET_SUFFIXES:
        from kpixl.workbook.sheet_rows import first_sheet_rows  # openpyxl only when needed

        header, rows, first = first_sheet_rows(path)
        return DailyRows.from_rows(header, rows, str(path), first)
    return read_daily(path)


@app.command("pace")
def pace_command(
    contract: Annotated[Path, typer.Argument(help="Contract file (YAML or JSON).")],
    daily: Annotated[
        Path, typer.Argument(help="Daily CSV or .xlsx: date (YYYY-MM-DD) + metric columns.")
    ],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Day to pace at (default: the last date).")
    ] = None,
    actuals: Annotated[
        Path | None,
        typer.Option(help="Actuals CSV of settled periods: the contract cap counts their bonus."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON document (= --format json).")
    ] = False,
    format_: FormatOption = None,
) -> None:
    """Where the open period is heading: projection, payout and the next step per KPI."""
    chosen = output_format(format_, as_json)
    day = _as_of(as_of)
    try:
        terms = load_contract(contract)
        rows = resolve_daily(terms, load_daily(daily))
        settled = None if actuals is None else settle(terms, read_actuals(actuals))
        result = pace(terms, rows, day, settled)
    except KpixlError as e:
        fail(e)
    if chosen is OutputFormat.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    elif chosen is OutputFormat.csv:
        _write_csv(PACE_CSV, [_pace_row(result, k) for k in result.kpis])
    else:
        print_pacing(terms, result)


def print_pacing(contract: Contract, result: Pacing) -> None:
    """Print the pacing as one table a manager reads in ten seconds, then the projected fee."""
    d = result.decimals
    title = (
        f"{contract.id} — {result.period}, as of {result.as_of.isoformat()} "
        f"(day {result.days_elapsed} of {result.days_in_period}, "
        f"{result.days_with_data} with data)"
    )
    table = Table(title=title, title_justify="left")
    for name in ("KPI", "to date", "projected", "target", "attainment", "payout", "next step"):
        table.add_column(name, justify="left" if name in ("KPI", "next step") else "right")
    kinds = column_kinds(contract)
    for kpi, k in zip(contract.kpis, result.kpis, strict=True):
        table.add_row(
            kpi.code,
            _number(k.to_date, kpi, d),
            _number(k.projected, kpi, d),
            _number(k.target, kpi, d),
            f"{k.attainment:.1%}",
            f"{k.payout:,.{d}f}",
            next_step_text(kpi, k, kinds, d),
        )
    print_wide(table)
    out.print(
        f"Projected bonus {result.bonus:,.{d}f} (guardrails × {result.guardrail_multiplier:g}), "
        f"base {result.base:,.{d}f}, total {result.total:,.{d}f} {result.currency}"
    )


def _number(value: float, kpi: Kpi, d: int) -> str:
    if kpi.unit == "currency":
        return f"{value:,.{d}f}"
    if kpi.unit == "percent":
        return f"{value:.2%}"
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"


def next_step_text(kpi: Kpi, k: KpiPace, kinds: Mapping[str, str], d: int) -> str:
    """``+9,888.89 gmv per day to reach 100 %``, or what the rest of the period must run at."""
    step = k.next_step
    if step is None:
        return "—"
    goal = f"to reach {step.attainment * 100:g} %"
    name = kpi.code
    if step.rest_of_period is None:
        return f"{_number(step.actual, kpi, d)} {name} needed {goal} (period over)"
    if step.per_day is not None:
        return f"{step.per_day:+,.{d}f} {name} per day {goal}"
    rest = _number(step.rest_of_period, kpi, d)
    if kpi.ratio is not None:
        return f"rest of period at {rest} {name} {goal}"
    if kinds.get(kpi.source_column) == "last":
        return f"end the period at {rest} {name} {goal}"
    return f"average {rest} {name} over the remaining days {goal}"


@app.command("review")
def review_command(
    contract: Annotated[Path, typer.Argument(help="Contract file (YAML or JSON).")],
    actuals: Annotated[Path, typer.Argument(help="Actuals CSV: period + one column per metric.")],
    adjustments: Annotated[
        Path | None,
        typer.Option(help="Adjustments CSV: period, metric, value, reason, approved_by."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON document (= --format json).")
    ] = False,
    format_: FormatOption = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Also write the review as .xlsx.")
    ] = None,
) -> None:
    """Review for renewal: attainment per period, fee against revenue, exit clause, adjustments."""
    chosen = output_format(format_, as_json)
    try:
        terms = load_contract(contract)
        figures = read_actuals(actuals)
        changes = None if adjustments is None else read_adjustments(adjustments)
        settlement = settle(terms, figures, changes)
        unadjusted = None if changes is None else settle(terms, figures)
    except KpixlError as e:
        fail(e)
    result = review(terms, settlement, unadjusted)
    if output is not None:
        from kpixl.workbook.review_book import write_review  # xlsxwriter only when asked

        write_review(result, output)
        err.print(f"wrote {output}")
    if chosen is OutputFormat.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    elif chosen is OutputFormat.csv:
        _write_csv(REVIEW_CSV, _review_rows(result))
    else:
        print_review(result)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def print_review(result: Review) -> None:
    """Print the review as three tables (attainment, fee, facts) a seller reads before renewal."""
    d = result.decimals
    if not result.periods:
        out.print("No period has actuals yet: nothing to review.")
        return
    head = f"{result.contract}: {len(result.periods)} of {result.periods_in_contract} periods"
    kpis = Table(title=f"{head} — attainment", title_justify="left")
    kpis.add_column("KPI")
    for label in result.periods:
        kpis.add_column(label, justify="right")
    for name in ("≥ target", "< threshold", "1st half", "2nd half"):
        kpis.add_column(name, justify="right")
    for k in result.kpis:
        below = "—" if k.below_threshold is None else str(k.below_threshold)
        kpis.add_row(
            k.code,
            *(_pct(a) for a in k.attainment),
            str(k.at_or_above_target),
            below,
            _pct(k.first_half_attainment),
            _pct(k.second_half_attainment),
        )
    print_wide(kpis)
    fee = result.fee
    fees = Table(title=f"fee ({result.currency})", title_justify="left")
    for name in ("period", "base", "bonus", "total", "revenue", "fee % revenue", "growth"):
        fees.add_column(name, justify="left" if name == "period" else "right")
    for p in fee.periods:
        revenue = "—" if p.revenue is None else f"{p.revenue:,.{d}f}"
        fees.add_row(
            p.period,
            f"{p.base:,.{d}f}",
            f"{p.bonus:,.{d}f}",
            f"{p.total:,.{d}f}",
            revenue,
            _pct(p.fee_share_of_revenue),
            _pct(p.revenue_growth),
        )
    fees.add_section()
    revenue = "—" if fee.revenue is None else f"{fee.revenue:,.{d}f}"
    fees.add_row(
        "total",
        f"{fee.base:,.{d}f}",
        f"{fee.bonus:,.{d}f}",
        f"{fee.total:,.{d}f}",
        revenue,
        _pct(fee.fee_share_of_revenue),
        _pct(fee.revenue_growth),
    )
    print_wide(fees)
    out.print(
        f"Bonus {fee.bonus:,.{d}f} of a pool of {fee.pool:,.{d}f} at 100 % "
        f"({_pct(fee.bonus_share_of_pool)})"
    )
    if result.exit is None:
        out.print("Exit clause: none")
    else:
        e = result.exit
        missed = ", ".join(e.missed_periods) or "none"
        out.print(
            f"Exit clause ({e.consecutive} in a row below {e.threshold:g}): {e.misses} misses "
            f"({missed}), longest streak {e.longest_streak}, "
            f"client may exit now: {'yes' if e.exit_eligible_now else 'no'}"
        )
    a = result.adjustments
    effect = "" if a.fee_effect is None else f", fee effect {a.fee_effect:+,.{d}f}"
    out.print(f"Adjustments: {a.count}{effect}")


PACE_CSV = ("contract", "period", "as_of", "kpi", "to_date", "projected", "target",
            "attainment", "factor", "payout", "next_attainment", "next_actual",
            "rest_of_period", "per_day")  # fmt: skip
REVIEW_CSV = ("contract", "period", "kpi", "attainment", "base", "bonus", "total", "revenue",
              "fee_share_of_revenue")  # fmt: skip


def _write_csv(header: tuple[str, ...], rows: list[list[object]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)


def _pace_row(result: Pacing, k: KpiPace) -> list[object]:
    """One CSV row per KPI: the figures of the §9 document, the next step flattened."""
    step = k.next_step
    return [
        result.contract, result.period, result.as_of.isoformat(), k.code, k.to_date, k.projected,
        k.target, k.attainment, k.factor, k.payout,
        None if step is None else step.attainment, None if step is None else step.actual,
        None if step is None else step.rest_of_period, None if step is None else step.per_day,
    ]  # fmt: skip


def _review_rows(result: Review) -> list[list[object]]:
    """One CSV row per settled period and KPI, with the period's fee beside it."""
    rows: list[list[object]] = []
    for i, (label, fee) in enumerate(zip(result.periods, result.fee.periods, strict=True)):
        for k in result.kpis:
            rows.append([result.contract, label, k.code, k.attainment[i], fee.base, fee.bonus,
                         fee.total, fee.revenue, fee.fee_share_of_revenue])  # fmt: skip
    return rows
