"""The ``kpixl`` command line: results to stdout, diagnostics to stderr, exit 0 / 1 / 2."""

from __future__ import annotations

import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from kpixl.actuals import read_actuals, read_adjustments
from kpixl.engine.results import Settlement
from kpixl.engine.settle import settle
from kpixl.errors import Issue, KpixlError
from kpixl.model import contract_json_schema, load_contract

if TYPE_CHECKING:
    from kpixl.engine.pricing import Price
    from kpixl.model import Contract
    from kpixl.workbook.layout import Lang, Mode

app = typer.Typer(
    name="kpixl",
    help="KPI-linked service fees: settle contracts, build and check quoting workbooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_PROBLEMS = 1
EXIT_USAGE = 2


class SchemaKind(StrEnum):
    """Which JSON Schema ``kpixl schema`` prints."""

    contract = "contract"
    template = "template"


class Formulas(StrEnum):
    """Formula mode of the workbooks ``kpixl quote`` and ``kpixl batch`` build."""

    native = "native"
    udf = "udf"


class Language(StrEnum):
    """Label language of a workbook."""

    en = "en"
    zh = "zh"
    both = "both"


FormulasOption = Annotated[
    Formulas, typer.Option(help="native (plain Excel formulas) or udf (KPIXL_*).")
]


def _mode(formulas: Formulas) -> Mode:
    return "udf" if formulas is Formulas.udf else "native"


def _lang(lang: Language) -> Lang:
    return "en" if lang is Language.en else "zh" if lang is Language.zh else "both"


def fail(error: KpixlError) -> NoReturn:
    """Print every issue of a user-facing error to stderr and exit 1."""
    issues = error.issues or []
    if issues:
        for issue in issues:
            err.print(
                f"[red]error[/red] {issue.location}: {issue.code} {issue.message}", markup=True
            )
    else:
        err.print(f"[red]error[/red] {error}")
    raise typer.Exit(EXIT_PROBLEMS)


@app.command("settle")
def settle_command(
    contract: Annotated[Path, typer.Argument(help="Contract file (YAML or JSON).")],
    actuals: Annotated[Path, typer.Argument(help="Actuals CSV: period + one column per metric.")],
    adjustments: Annotated[
        Path | None,
        typer.Option(help="Adjustments CSV: period, metric, value, reason, approved_by."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON document.")] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print one CSV row per period and KPI.")
    ] = False,
) -> None:
    """Settle a contract against its actuals and print the payout per period."""
    if as_json and as_csv:
        err.print("error: choose one of --json and --csv")
        raise typer.Exit(EXIT_USAGE)
    try:
        terms = load_contract(contract)
        result = settle(
            terms,
            read_actuals(actuals),
            None if adjustments is None else read_adjustments(adjustments),
        )
    except KpixlError as e:
        fail(e)
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    elif as_csv:
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


@app.command("schema")
def schema_command(
    kind: Annotated[SchemaKind, typer.Argument(help="contract or template")],
    contract: Annotated[
        Path | None,
        typer.Argument(help="With 'template': print that contract's concrete template."),
    ] = None,
    lang: Annotated[
        Language, typer.Option(help="Label language for a concrete template.")
    ] = Language.both,
) -> None:
    """Print the JSON Schema of contract files, or the workbook template schema."""
    if kind is SchemaKind.contract:
        sys.stdout.write(json.dumps(contract_json_schema(), indent=2, ensure_ascii=False) + "\n")
        return
    from kpixl.workbook.template import template_json_schema, template_schema

    if contract is None:
        sys.stdout.write(json.dumps(template_json_schema(), indent=2, ensure_ascii=False) + "\n")
        return
    try:
        terms = load_contract(contract)
    except KpixlError as e:
        fail(e)
    sys.stdout.write(template_schema(terms, _lang(lang)).to_json() + "\n")


RateCardOption = Annotated[
    Path | None, typer.Option("--rate-card", help="Rate card YAML (default: the SAMPLE card).")
]


@app.command("quote")
def quote_command(
    contract: Annotated[Path, typer.Argument(help="Contract file (YAML or JSON).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .xlsx to write.")],
    actuals: Annotated[Path | None, typer.Option(help="Actuals CSV to fill in.")] = None,
    adjustments: Annotated[Path | None, typer.Option(help="Adjustments CSV.")] = None,
    formulas: FormulasOption = Formulas.native,
    lang: Annotated[Language, typer.Option(help="Label language.")] = Language.both,
    rate_card: RateCardOption = None,
) -> None:
    """Build the standard quoting workbook of a contract (with cached values)."""
    from kpixl.workbook.build import build_workbook
    from kpixl.workbook.layout import load_fitting_card

    mode, language = _mode(formulas), _lang(lang)
    try:
        terms = load_contract(contract)
        rows = None if actuals is None else read_actuals(actuals)
        adjusted = None if adjustments is None else read_adjustments(adjustments)
        card = None if rate_card is None else load_fitting_card(rate_card)
        build_workbook(terms, rows, adjusted, mode, language, output, rate_card=card)
    except KpixlError as e:
        fail(e)
    err.print(f"wrote {output} ({mode} formulas)")


@app.command("recalc")
def recalc_command(
    workbook: Annotated[Path, typer.Argument(help="A kpixl workbook.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of in place.")
    ] = None,
    engine: Annotated[
        str, typer.Option(help="kpixl (settle the inputs) or formulas (evaluate the formulas).")
    ] = "kpixl",
) -> None:
    """Recalculate every formula headlessly and store the new cached values (atomically)."""
    from kpixl.workbook.recalc import recalc
    from kpixl.workbook.safety import open_package

    if engine not in ("kpixl", "formulas"):
        err.print(f"error: --engine must be kpixl or formulas, not {engine!r}")
        raise typer.Exit(EXIT_USAGE)
    package, issues = open_package(workbook, label=str(workbook))
    if package is None:
        fail(KpixlError.from_issues(issues))
    package.close()
    try:
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
        raise typer.Exit(EXIT_PROBLEMS)


def _udfs() -> dict[str, Any]:
    import udfs.kpixl_udfs as module

    return {name.upper(): getattr(module, name) for name in module.__all__}


class OutputFormat(StrEnum):
    """How ``kpixl validate`` reports."""

    text = "text"
    json = "json"


@app.command("validate")
def validate_command(
    workbooks: Annotated[list[Path], typer.Argument(help="Workbooks to check.")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text (one line per issue) or json.")
    ] = OutputFormat.text,
    template: Annotated[
        Path | None,
        typer.Option(help="The signed contract file: every term in the workbook must equal it."),
    ] = None,
) -> None:
    """Check workbooks: safe to open, the standard template, formulas intact, caches honest."""
    from kpixl.workbook.validate import validate_workbook

    try:
        signed = None if template is None else load_contract(template)
    except KpixlError as e:
        fail(e)
    found = [(path, validate_workbook(path, expected=signed)) for path in workbooks]
    issues = [issue for _path, items in found for issue in items]
    if output_format is OutputFormat.json:
        rows = [_issue_row(str(path), issue) for path, items in found for issue in items]
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    else:
        for issue in issues:
            note = "(warning) " if issue.severity == "warning" else ""
            sys.stdout.write(f"{issue.location}: {issue.code} {note}{issue.message}\n")
        errors = sum(1 for issue in issues if issue.severity == "error")
        warnings = len(issues) - errors
        clean = sum(1 for _path, items in found if not items)
        err.print(
            f"{len(workbooks)} workbook(s) checked: {clean} clean, "
            f"{errors} error(s), {warnings} warning(s)"
        )
    if any(issue.severity == "error" for issue in issues):
        raise typer.Exit(EXIT_PROBLEMS)


def _issue_row(file: str, issue: Issue) -> dict[str, str | None]:
    place = issue.location.removeprefix(file)
    place = place.removeprefix(":")
    sheet, _, cell = place.partition("!")
    return {
        "file": file,
        "sheet": sheet or None,
        "cell": cell or None,
        "code": issue.code,
        "severity": issue.severity,
        "message": issue.message,
    }


def print_wide(table: Table) -> None:
    """Print a table at its natural width so numbers are never cut to '…' on a narrow stdout."""
    width = Measurement.get(out, out.options.update_width(1000), table).maximum
    # A console prints no wider than itself: a wider one just for this table.
    Console(highlight=False, soft_wrap=True, width=max(out.width, width)).print(table)


def parse_levels(text: str | None) -> tuple[float, ...] | None:
    """Parse ``--levels 0,0.5,0.8`` into ascending attainment levels (usage error otherwise)."""
    if text is None:
        return None
    try:
        levels = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as e:
        raise typer.BadParameter(f"levels must be numbers separated by commas: {text!r}") from e
    if not levels or any(level < 0 for level in levels) or list(levels) != sorted(set(levels)):
        raise typer.BadParameter("levels must be ascending numbers >= 0, each once")
    return levels


LevelsOption = Annotated[
    str | None,
    typer.Option("--levels", help="Attainment levels, e.g. 0,0.5,0.8,1,1.2,1.5."),
]


@app.command("price")
def price_command(
    contract: Annotated[Path, typer.Argument(help="Contract file with a quote section.")],
    rate_card: RateCardOption = None,
) -> None:
    """Price a contract's quote section from a rate card, showing the SPEC §6 arithmetic."""
    from kpixl.engine.pricing import fee_contradictions, price_contract
    from kpixl.ratecard import load_rate_card

    try:
        terms = load_contract(contract)
        card = load_rate_card(rate_card)
        price = price_contract(card, terms)
    except KpixlError as e:
        fail(e)
    print_price(price, terms.currency, terms.decimals, card.name)
    problems = fee_contradictions(terms, price)
    if problems:
        fail(KpixlError.from_issues([_at(contract, issue) for issue in problems]))


def _at(path: Path, issue: Issue) -> Issue:
    """The issue located in a file (``c.yaml: fee.base``)."""
    return Issue(f"{path}: {issue.location}", issue.code, issue.message, issue.severity)


def print_price(price: Price, currency: str, d: int, card_name: str) -> None:
    """Print the list price, base, pool and cap, one line of arithmetic each."""
    lines = price.lines
    add_ons = " + ".join(f"{fee:,.2f} ({name})" for name, fee in lines.add_on_fees) or "0"
    out.print(f"Rate card: {card_name} ({currency})")
    out.print(f"team cost            = {lines.team_cost:,.2f}")
    out.print(
        f"× platform {lines.platform_factor:g} × markets {lines.market_multiplier:g} "
        f"× category {lines.category_factor:g}"
        f" = {lines.adjusted_team_cost:,.2f}"
    )
    out.print(f"+ integration        = {lines.integration_fee:,.2f}")
    out.print(f"+ add-ons            = {add_ons}")
    out.print(f"+ languages          = {lines.language_fees:,.2f}")
    out.print(f"subtotal per month   = {lines.subtotal:,.2f}")
    out.print(f"× (1 − term discount {lines.term_discount:g}), ROUND = {lines.monthly_list:,.{d}f}")
    if lines.months != 1:
        out.print(f"× {lines.months} months per quarter")
    out.print(f"list                 = {price.list:,.{d}f}")
    out.print(f"base  = ROUND(list · s, {d})           = {price.base:,.{d}f}")
    out.print(f"pool  = ROUND(list · (1 − s) · r, {d}) = {price.pool:,.{d}f}")
    cap = "none (no cap_ratio)" if price.period_cap is None else f"{price.period_cap:,.{d}f}"
    out.print(f"period_cap = ROUND(pool · cap_ratio, {d}) = {cap}")


def _fixed_fee(terms: Contract, rate_card: Path | None) -> tuple[float | None, str]:
    """The fixed-fee alternative: the quote's list price, else fee.base + fee.pool."""
    from kpixl.engine.pricing import fee_contradictions, price_contract
    from kpixl.ratecard import load_rate_card

    if terms.quote is None:
        return None, "fixed fee = fee.base + fee.pool (the contract has no quote section)"
    card = load_rate_card(rate_card)
    price = price_contract(card, terms)
    problems = fee_contradictions(terms, price)
    if problems:
        raise KpixlError.from_issues(problems)
    return price.list, f"fixed fee = list price from {card.name}"


@app.command("scenarios")
def scenarios_command(
    contract: Annotated[Path, typer.Argument(help="Contract file (YAML or JSON).")],
    levels: LevelsOption = None,
    rate_card: RateCardOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fee at uniform attainment levels, beside a fixed fee and a pure commission (CPS)."""
    from kpixl.engine.scenarios import scenarios

    try:
        terms = load_contract(contract)
        fixed, basis = _fixed_fee(terms, rate_card)
        rows = scenarios(terms, parse_levels(levels), fixed_fee=fixed)
    except KpixlError as e:
        fail(e)
    if as_json:
        document = {
            "contract": terms.id,
            "currency": terms.currency,
            "fixed_fee_basis": basis,
            "rows": [row.to_dict() for row in rows],
        }
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return
    d = terms.decimals
    table = Table(
        title=f"{terms.id}: fee per {terms.period} by attainment ({terms.currency})",
        title_justify="left",
        caption=basis,
        caption_justify="left",
    )
    for name in ("level", "base", "bonus", "total", "GMV", "fee % GMV", "fixed fee", "CPS"):
        table.add_column(name, justify="right")
    for row in rows:
        table.add_row(
            f"{row.level:.0%}",
            f"{row.base:,.{d}f}",
            f"{row.bonus:,.{d}f}",
            f"{row.total:,.{d}f}",
            "" if row.gmv is None else f"{row.gmv:,.{d}f}",
            "" if row.fee_share is None else f"{row.fee_share:.2%}",
            f"{row.fixed_fee:,.{d}f}",
            "" if row.cps_fee is None else f"{row.cps_fee:,.{d}f}",
        )
    print_wide(table)


@app.command("compare")
def compare_command(
    contracts: Annotated[list[Path], typer.Argument(help="Two or more contract files.")],
    levels: LevelsOption = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write an .xlsx.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Quotes side by side on the same levels and GMV: fee, rate, cheapest, crossings."""
    from kpixl.engine.comparison import compare

    try:
        terms = [load_contract(path) for path in contracts]
        result = compare(terms, parse_levels(levels))
    except KpixlError as e:
        fail(e)
    if output is not None:
        from kpixl.workbook.compare import write_comparison

        write_comparison(result, output)
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return
    basis = "none" if result.gmv_basis is None else f"{result.gmv_basis:,.2f}"
    table = Table(
        title=f"Quotes compared ({result.currency}); GMV basis: revenue target of "
        f"{result.names[0]} = {basis}",
        title_justify="left",
    )
    table.add_column("level", justify="right")
    table.add_column("GMV", justify="right")
    for name in result.names:
        table.add_column(f"{name} fee", justify="right")
        table.add_column("% GMV", justify="right")
    table.add_column("cheapest")
    for row in result.rows:
        cells = [f"{row.level:.0%}", "" if row.gmv is None else f"{row.gmv:,.2f}"]
        for total, rate in zip(row.totals, row.rates, strict=True):
            cells += [f"{total:,.2f}", "" if rate is None else f"{rate:.2%}"]
        table.add_row(*cells, ", ".join(row.cheapest))
    print_wide(table)
    for c in result.crossings:
        out.print(f"{c.first} and {c.second} cross at level {c.level:.1%} (fee {c.total:,.2f})")
    if not result.crossings:
        out.print("The fee curves do not cross between these levels.")
    if output is not None:
        out.print(f"Wrote {output}")


@app.command("init")
def init_command(
    template: Annotated[str, typer.Option("--template", help="Template name or YAML path.")],
    history: Annotated[Path, typer.Option("--history", help="Monthly history CSV.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Contract YAML to write.")],
    growth: Annotated[float, typer.Option(help="Growth expectation, e.g. 0.2.")] = 0.2,
    rate_card: RateCardOption = None,
    client: Annotated[str, typer.Option(help="Client name.")] = "CLIENT NAME (edit me)",
    provider: Annotated[str, typer.Option(help="Provider name.")] = "PROVIDER NAME (edit me)",
) -> None:
    """Draft a contract from a KPI benchmark template and the last months of history."""
    from kpixl.atomic import atomic_write_text
    from kpixl.ratecard import load_rate_card
    from kpixl.templates import contract_yaml, init_from_history

    try:
        card = load_rate_card(rate_card)
        result = init_from_history(
            template,
            read_actuals(history),
            growth,
            rate_card=card,
            client=client,
            provider=provider,
        )
    except KpixlError as e:
        fail(e)
    atomic_write_text(output, contract_yaml(result, template))
    for note in result.notes:
        out.print(note)
    out.print(f"Wrote {output}")


@app.command("batch")
def batch_command(
    portfolio: Annotated[
        Path,
        typer.Argument(
            help="Folder of <id>.yaml|.json + <id>.actuals.csv [+ <id>.adjustments.csv], "
            "or a register (.csv/.xlsx: contract, actuals, adjustments[, id]).",
        ),
    ],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")],
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Worker processes (default: all cores)."),
    ] = None,
    formulas: FormulasOption = Formulas.native,
    force: Annotated[
        bool, typer.Option(help="Rebuild every workbook, even up-to-date ones.")
    ] = False,
    executor: Annotated[
        str, typer.Option(help="local, dask-local, or dask://HOST:PORT (needs kpixl[dask]).")
    ] = "local",
    rate_card: RateCardOption = None,
) -> None:
    """Regenerate the workbooks of a portfolio: parallel, resumable, failures isolated."""
    from kpixl.batch import BatchOptions, BatchUsageError, run_batch
    from kpixl.progress import BatchProgress, summary_table

    options = BatchOptions(out_dir, jobs, _mode(formulas), force, executor, rate_card=rate_card)
    try:
        report = run_batch(portfolio, options, BatchProgress(err))
    except BatchUsageError as e:
        for issue in e.issues:
            err.print(f"error {issue.location}: {issue.code} {issue.message}")
        raise typer.Exit(EXIT_USAGE) from e
    except KpixlError as e:
        fail(e)
    out.print(summary_table(report))
    if report.failed:
        err.print(f"{report.failed} contract(s) failed: see {out_dir / 'errors.csv'}")
        raise typer.Exit(EXIT_PROBLEMS)


addin_app = typer.Typer(
    help="Install or check the Excel add-in (xlwings UDFs).", no_args_is_help=True
)
app.add_typer(addin_app, name="addin")


@addin_app.command("install")
def addin_install_command(
    dry_run: Annotated[bool, typer.Option(help="Say what would change, change nothing.")] = False,
) -> None:
    """Install the xlwings add-in and point it at the kpixl UDFs (Windows / macOS Excel)."""
    from udfs.install import install_addin

    try:
        lines = install_addin(dry_run=dry_run)
    except KpixlError as e:
        fail(e)
    for line in lines:
        out.print(line)


@addin_app.command("status")
def addin_status_command() -> None:
    """Show the add-in's installation and the xlwings settings kpixl needs."""
    from udfs.install import addin_status

    for line in addin_status():
        out.print(line)


def main() -> None:
    """Entry point of the ``kpixl`` command: any file the system refuses is a clean error."""
    try:
        app()
    except OSError as e:  # an unwritable output folder, a full disk, a permission
        where = "kpixl" if e.filename is None else str(e.filename)
        # Name the file the user asked for, not the temporary one it was being written as.
        where = re.sub(r"\.[0-9a-f]{12}\.tmp$", "", where)
        err.print(f"[red]error[/red] {where}: {e.strerror or e}")
        sys.exit(EXIT_PROBLEMS)
