"""``kpixl settle``: the settlement of a contract, as tables, JSON or CSV."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kpixl.cli.app import (
    EncodingOption,
    FormatOption,
    OutputFormat,
    app,
    fail,
    out,
    output_format,
)
from kpixl.engine.results import Settlement
from kpixl.engine.settle import settle
from kpixl.errors import KpixlError
from kpixl.model import load_contract
from kpixl.workbook.tables import read_actuals, read_adjustments

if TYPE_CHECKING:
    pass


@app.command("settle")
def settle_command(
    contract: Annotated[Path, typer.Argument(help="Contract file (YAML or JSON).")],
    actuals: Annotated[
        Path, typer.Argument(help="Actuals CSV or .xlsx: period + one column per metric.")
    ],
    adjustments: Annotated[
        Path | None,
        typer.Option(help="Adjustments CSV or .xlsx: period, metric, value, reason, approved_by."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON document (= --format json).")
    ] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print one CSV row per period and KPI (= --format csv).")
    ] = False,
    format_: FormatOption = None,
    encoding: EncodingOption = None,
) -> None:
    """Settle a contract against its actuals and print the payout per period."""
    chosen = output_format(format_, as_json, as_csv)
    try:
        terms = load_contract(contract)
        result = settle(
            terms,
            read_actuals(actuals, encoding),
            None if adjustments is None else read_adjustments(adjustments, encoding),
        )
    except KpixlError as e:
        fail(e)
    if chosen is OutputFormat.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    elif chosen is OutputFormat.csv:
        sys.stdout.write(result.to_frame().to_csv(index=False))
    else:
        print_settlement(result, title=f"{terms.id} — {terms.client} / {terms.provider}")


def print_settlement(result: Settlement, title: str) -> None:
    """Print a settlement as two readable tables (KPIs, then periods), totals and adjustments."""
    d = result.decimals
    kpis = Table(title=f"{title}: KPIs", title_justify="left")
    for name in ("period", "kpi", "actual", "target", "attainment", "factor", "payout"):
        kpis.add_column(name, justify="left" if name in ("period", "kpi") else "right")
    for period in result.periods:
        for k in period.kpis:
            kpis.add_row(
                period.period,
                k.code,
                f"{k.actual:,.6g}",
                f"{k.target:,.6g}",
                f"{k.attainment:.4f}",
                f"{k.factor:.4f}",
                f"{k.payout:,.{d}f}",
            )
    periods = Table(title=f"{title}: periods ({result.currency})", title_justify="left")
    for name in ("period", "W", "m", "bonus", "base", "total", "exit"):
        periods.add_column(name, justify="left" if name == "period" else "right")
    for period in result.periods:
        exit_text = "yes" if period.exit_eligible else ("miss" if period.miss else "no")
        periods.add_row(
            period.period,
            f"{period.weighted_attainment:.4f}",
            f"{period.guardrail_multiplier:g}",
            f"{period.bonus:,.{d}f}",
            f"{period.base:,.{d}f}",
            f"{period.total:,.{d}f}",
            exit_text,
        )
    t = result.totals
    periods.add_section()
    periods.add_row(
        "total", "", "", f"{t.bonus:,.{d}f}", f"{t.base:,.{d}f}", f"{t.total:,.{d}f}", ""
    )
    if result.periods:
        out.print(kpis)
        out.print(periods)
    else:
        out.print("No period has actuals yet: nothing settled.")
    for adj in result.adjustments:
        original = "(empty)" if adj.original is None else f"{adj.original:,.10g}"
        out.print(
            f"Adjusted {adj.period} {adj.metric}: {original} -> {adj.adjusted:,.10g} "
            f"({adj.reason}; approved by {adj.approved_by})"
        )
