"""The bodies of ``kpixl settle`` and ``kpixl recalc``, without typer.

``kpixl.cli.settle`` and ``kpixl.cli.workbook`` declare the commands for typer and call these;
``kpixl.cli.fast`` calls them straight from argv it fully understands, so a plain
``kpixl settle c.yaml a.csv`` never imports typer or click. Each body takes exactly its typer
command's parameters (tests/test_fast_cli.py checks both paths call it alike).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpixl.cli.common import EXIT_PROBLEMS, EXIT_USAGE, OutputFormat, err, fail, out, output_format
from kpixl.cli.plain_table import PlainTable, show
from kpixl.errors import KpixlError

if TYPE_CHECKING:
    from kpixl.engine.results import Settlement


def settle(
    contract: Path,
    actuals: Path,
    adjustments: Path | None = None,
    as_json: bool = False,
    as_csv: bool = False,
    format_: OutputFormat | None = None,
    encoding: str | None = None,
) -> None:
    """Settle a contract against its actuals and print the payout per period."""
    from kpixl.engine.settle import settle
    from kpixl.model import load_contract
    from kpixl.workbook.tables import read_actuals, read_adjustments

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
    kpis = PlainTable(f"{title}: KPIs")
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
    periods = PlainTable(f"{title}: periods ({result.currency})")
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
        show([kpis, periods], out)
    else:
        out.print("No period has actuals yet: nothing settled.")
    for adj in result.adjustments:
        original = "(empty)" if adj.original is None else f"{adj.original:,.10g}"
        out.print(
            f"Adjusted {adj.period} {adj.metric}: {original} -> {adj.adjusted:,.10g} "
            f"({adj.reason}; approved by {adj.approved_by})"
        )


def recalc(workbook: Path, output: Path | None = None, engine: str = "kpixl") -> None:
    """Recalculate every formula headlessly and store the new cached values (atomically)."""
    from kpixl.workbook.recalc import recalc
    from kpixl.workbook.safety import check_package

    if engine not in ("kpixl", "formulas"):
        err.print(f"error: --engine must be kpixl or formulas, not {engine!r}")
        sys.exit(EXIT_USAGE)
    try:
        check_package(workbook, label=str(workbook))  # named as given; recalc checks again
        if engine == "formulas":
            report = recalc(workbook, output, "formulas", functions=_udfs())
        else:
            report = recalc(workbook, output, "kpixl")
    except KpixlError as e:
        fail(e)
    for issue in report.issues:
        err.print(f"[yellow]warning[/yellow] {issue}")
    err.print(f"recalculated {len(report.patched)} formula cells -> {output or workbook}")
    if not report.ok:
        sys.exit(EXIT_PROBLEMS)


def _udfs() -> dict[str, Any]:
    import udfs.kpixl_udfs as module

    return {name.upper(): getattr(module, name) for name in module.__all__}
