"""``kpixl price``, ``scenarios``, ``compare`` and ``init``: quoting and drafting contracts."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kpixl.actuals import read_actuals
from kpixl.cli.app import (
    FormatOption,
    LevelsOption,
    OutputFormat,
    RateCardOption,
    app,
    err,
    fail,
    located,
    out,
    output_format,
    parse_levels,
    print_wide,
    write_csv,
)
from kpixl.errors import KpixlError
from kpixl.model import load_contract

if TYPE_CHECKING:
    from kpixl.engine.comparison import Comparison
    from kpixl.engine.pricing import Price


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
        fail(KpixlError.from_issues([located(contract, issue) for issue in problems]))


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


@app.command("scenarios")
def scenarios_command(
    contract: Annotated[Path, typer.Argument(help="Contract file (YAML or JSON).")],
    levels: LevelsOption = None,
    rate_card: RateCardOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (= --format json).")] = False,
    format_: FormatOption = None,
) -> None:
    """What does this one quote pay per period at each attainment level of its own targets?

    Fee at uniform attainment levels (period 1), beside a fixed fee and a pure commission
    (CPS). To compare providers' quotes on the same business outcomes, use `kpixl compare`.
    """
    from kpixl.engine.pricing import fixed_fee_basis
    from kpixl.engine.scenarios import scenarios
    from kpixl.ratecard import load_rate_card

    chosen = output_format(format_, as_json)
    try:
        terms = load_contract(contract)
        card = None if terms.quote is None else load_rate_card(rate_card)
        fixed, basis = fixed_fee_basis(terms, card)
        rows = scenarios(terms, parse_levels(levels), fixed_fee=fixed)
    except KpixlError as e:
        fail(e)
    if chosen is OutputFormat.csv:
        write_csv(
            [
                {key: value for key, value in row.to_dict().items() if not isinstance(value, dict)}
                for row in rows
            ]
        )
        return
    if chosen is OutputFormat.json:
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
    contracts: Annotated[list[Path], typer.Argument(help="Two or more contract files (quotes).")],
    outcomes: Annotated[
        Path | None,
        typer.Option(
            "--outcomes",
            help="CSV: a 'scenario' column, then monthly metric values, one row per scenario. "
            "Default: the first quote's own attainment levels as outcomes.",
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write an .xlsx.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the SPEC §10 JSON (= --format json).")
    ] = False,
    format_: FormatOption = None,
) -> None:
    """What does each provider's quote cost per month if the shop does the same business?

    Every quote is settled over its whole term on the same monthly outcomes (ramps, staged
    targets, caps and true-ups included): fee per month, share of revenue, the cheapest, where
    the cheapest changes, and the commitments side by side. (`kpixl scenarios` answers another
    question: what one quote pays at each attainment level of its own targets.)
    """
    from kpixl.engine.commitments import commitment_rows
    from kpixl.engine.comparison import compare
    from kpixl.outcomes import read_outcomes

    chosen = output_format(format_, as_json)
    try:
        terms = [load_contract(path) for path in contracts]
        given = None if outcomes is None else read_outcomes(outcomes)
        result = compare(terms, given)
    except KpixlError as e:
        fail(e)
    commitments = commitment_rows(terms, result.names)
    if output is not None:
        from kpixl.workbook.compare import write_comparison

        write_comparison(result, commitments, output)
    for note in result.notes:
        err.print(f"note: {note}")
    if chosen is OutputFormat.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    elif chosen is OutputFormat.csv:
        write_csv(
            [
                {
                    "scenario": scenario.name,
                    **fee.to_dict(),
                    "cheapest": fee.contract in scenario.cheapest,
                }
                for scenario in result.scenarios
                for fee in scenario.fees
            ]
        )
    else:
        print_comparison(result, commitments)
    if output is not None:
        err.print(f"Wrote {output}")


def print_comparison(result: Comparison, commitments: list[tuple[str, tuple[str, ...]]]) -> None:
    """Print the fees per scenario, the crossings and the commitments."""
    d = result.decimals
    table = Table(
        title=f"Fee per month over each quote's term ({result.currency}), on the same outcomes "
        f"(from {result.outcomes_from})",
        title_justify="left",
    )
    table.add_column("scenario")
    revenue = result.revenue_column
    if revenue is not None:
        table.add_column(f"{revenue} / month", justify="right")
    for name in result.names:
        table.add_column(f"{name}\nbase + bonus = total", justify="right")
        table.add_column("% rev.", justify="right")
    table.add_column("cheapest")
    for scenario in result.scenarios:
        values = dict(scenario.outcome)
        cells: list[str] = [scenario.name]
        if revenue is not None:
            cells.append("" if revenue not in values else f"{values[revenue]:,.{d}f}")
        for fee in scenario.fees:
            cells.append(f"{fee.base:,.{d}f} + {fee.bonus:,.{d}f} = {fee.total:,.{d}f}")
            share = fee.share_of_revenue
            cells.append("" if share is None else f"{share:.2%}")
        table.add_row(*cells, ", ".join(scenario.cheapest))
    print_wide(table)
    outcome_table = Table(title="Outcomes per month", title_justify="left")
    columns = list(dict.fromkeys(c for s in result.scenarios for c, _ in s.outcome))
    outcome_table.add_column("scenario")
    for column in columns:
        outcome_table.add_column(column, justify="right")
    for scenario in result.scenarios:
        values = dict(scenario.outcome)
        outcome_table.add_row(
            scenario.name, *("" if c not in values else f"{values[c]:,.6g}" for c in columns)
        )
    print_wide(outcome_table)
    for c in result.crossings:
        out.print(
            f"Between {c.before} and {c.after}: {c.second} becomes cheaper than {c.first} at "
            f"{revenue} ≈ {c.revenue:,.{d}f} per month (fee ≈ {c.total:,.{d}f}; straight-line "
            "interpolation of both fees between the two outcomes)"
        )
    if not result.crossings:
        out.print("The cheapest quote does not change between these outcomes.")
    side = Table(title="Commitments side by side", title_justify="left", show_lines=True)
    header, *rows = commitments
    side.add_column(header[0])
    for name in header[1]:
        side.add_column(name)
    for label, texts in rows:
        side.add_row(label, *texts)
    print_wide(side)


@app.command("init")
def init_command(
    template: Annotated[str, typer.Option("--template", help="Template name or YAML path.")],
    history: Annotated[Path, typer.Option("--history", help="Monthly history CSV.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Contract YAML to write.")],
    growth: Annotated[float, typer.Option(help="Growth expectation, e.g. 0.2.")] = 0.2,
    rate_card: RateCardOption = None,
    client: Annotated[str, typer.Option(help="Client name.")] = "CLIENT NAME (edit me)",
    provider: Annotated[str, typer.Option(help="Provider name.")] = "PROVIDER NAME (edit me)",
    seasonality: Annotated[
        str | None,
        typer.Option(
            "--seasonality",
            help="Monthly profile CSV (month,index) or a template name for its SAMPLE profile; "
            "used when the history has fewer than 12 months.",
        ),
    ] = None,
) -> None:
    """Draft a contract from a KPI benchmark template and sales history.

    With 12 months of history or more, each period's target follows the season (the same
    calendar month(s) last year, moved by the growth); with fewer, one flat target, which
    --seasonality spreads over the months for sum KPIs (GMV, orders).
    """
    from kpixl.atomic import atomic_write_text
    from kpixl.ratecard import load_rate_card
    from kpixl.seasonal import read_seasonality
    from kpixl.templates import contract_yaml, init_from_history

    try:
        card = load_rate_card(rate_card)
        profile = None if seasonality is None else read_seasonality(seasonality)
        result = init_from_history(
            template,
            read_actuals(history),
            growth,
            rate_card=card,
            client=client,
            provider=provider,
            seasonality=profile,
        )
    except KpixlError as e:
        fail(e)
    atomic_write_text(output, contract_yaml(result, template))
    for note in result.notes:
        err.print(note)
    err.print(f"Wrote {output}")
