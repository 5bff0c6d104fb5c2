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
    """Fee at uniform attainment levels, beside a fixed fee and a pure commission (CPS)."""
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
    contracts: Annotated[list[Path], typer.Argument(help="Two or more contract files.")],
    levels: LevelsOption = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write an .xlsx.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (= --format json).")] = False,
    format_: FormatOption = None,
) -> None:
    """Quotes side by side on the same levels and GMV: fee, rate, cheapest, crossings."""
    from kpixl.engine.comparison import compare

    chosen = output_format(format_, as_json)
    try:
        terms = [load_contract(path) for path in contracts]
        result = compare(terms, parse_levels(levels))
    except KpixlError as e:
        fail(e)
    if output is not None:
        from kpixl.workbook.compare import write_comparison

        write_comparison(result, output)
        err.print(f"Wrote {output}")
    if chosen is OutputFormat.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return
    if chosen is OutputFormat.csv:
        write_csv(
            [
                {
                    "level": row.level,
                    "gmv": row.gmv,
                    **{f"{name} fee": t for name, t in zip(result.names, row.totals, strict=True)},
                    **{f"{name} rate": r for name, r in zip(result.names, row.rates, strict=True)},
                    "cheapest": ";".join(row.cheapest),
                }
                for row in result.rows
            ]
        )
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
        err.print(note)
    err.print(f"Wrote {output}")
