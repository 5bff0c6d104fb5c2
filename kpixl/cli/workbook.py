"""``kpixl schema``, ``quote``, ``recalc`` and ``validate``: the standard workbook."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kpixl.cli import bodies
from kpixl.cli.app import (
    EXIT_PROBLEMS,
    EXIT_USAGE,
    EncodingOption,
    Formulas,
    FormulasOption,
    Language,
    OutputFormat,
    RateCardOption,
    SchemaKind,
    app,
    err,
    fail,
    lang_of,
    mode_of,
    write_csv,
)
from kpixl.errors import KpixlError
from kpixl.model import contract_json_schema, load_contract

if TYPE_CHECKING:
    pass


@app.command("schema")
def schema_command(
    kind: Annotated[SchemaKind, typer.Argument(help="contract, template or mapping")],
    contract: Annotated[
        Path | None,
        typer.Argument(help="With 'template': print that contract's concrete template."),
    ] = None,
    lang: Annotated[
        Language, typer.Option(help="Label language for a concrete template.")
    ] = Language.both,
    client_copy: Annotated[
        bool,
        typer.Option("--client-copy", help="The template of the client copy (no pricing)."),
    ] = False,
) -> None:
    """Print the JSON Schema of contract files, or the workbook template schema."""
    if kind is SchemaKind.contract:
        sys.stdout.write(json.dumps(contract_json_schema(), indent=2, ensure_ascii=False) + "\n")
        return
    if kind is SchemaKind.mapping:
        from kpixl.intake import mapping_json_schema

        sys.stdout.write(json.dumps(mapping_json_schema(), indent=2, ensure_ascii=False) + "\n")
        return
    from kpixl.workbook.layout import Variant
    from kpixl.workbook.template import template_json_schema, template_schema

    if contract is None:
        sys.stdout.write(json.dumps(template_json_schema(), indent=2, ensure_ascii=False) + "\n")
        return
    try:
        terms = load_contract(contract)
    except KpixlError as e:
        fail(e)
    variant: Variant = "client" if client_copy else "full"
    sys.stdout.write(template_schema(terms, lang_of(lang), variant=variant).to_json() + "\n")


@app.command("quote")
def quote_command(
    contract: Annotated[Path, typer.Argument(help="Contract file (YAML or JSON).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .xlsx to write.")],
    actuals: Annotated[Path | None, typer.Option(help="Actuals CSV or .xlsx to fill in.")] = None,
    adjustments: Annotated[Path | None, typer.Option(help="Adjustments CSV or .xlsx.")] = None,
    encoding: EncodingOption = None,
    evidence: Annotated[
        Path | None,
        typer.Option(
            help="Evidence JSON of kpixl ingest: kept beside the actuals (with --actuals)."
        ),
    ] = None,
    formulas: FormulasOption = Formulas.native,
    lang: Annotated[Language, typer.Option(help="Label language.")] = Language.both,
    rate_card: RateCardOption = None,
    client_copy: Annotated[
        bool,
        typer.Option(
            "--client-copy",
            help="The copy to send the client: no internal pricing (no Pricing or RateCard "
            "sheet, no team cost, risk premium or margin).",
        ),
    ] = False,
) -> None:
    """Build the standard quoting workbook of a contract (with cached values)."""
    from kpixl.intake.evidence import load_evidence
    from kpixl.workbook.build import build_workbook
    from kpixl.workbook.evidence import recorded_table
    from kpixl.workbook.layout import Variant, load_fitting_card
    from kpixl.workbook.tables import read_actuals, read_adjustments

    mode, language = mode_of(formulas), lang_of(lang)
    if evidence is not None and actuals is None:
        err.print("error: --evidence records the figures of --actuals; give both")
        raise typer.Exit(EXIT_USAGE)
    try:
        terms = load_contract(contract)
        rows = None if actuals is None else read_actuals(actuals, encoding)
        adjusted = None if adjustments is None else read_adjustments(adjustments, encoding)
        card = None if rate_card is None else load_fitting_card(rate_card)
        table = None
        if evidence is not None and rows is not None:
            table = recorded_table(terms, load_evidence(evidence), rows)
        variant: Variant = "client" if client_copy else "full"
        build_workbook(terms, rows, adjusted, mode, language, output, card, variant, evidence=table)
    except KpixlError as e:
        fail(e)
    copy = ", client copy" if client_copy else ""
    err.print(f"wrote {output} ({mode} formulas{copy})")


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
    bodies.recalc(workbook=workbook, output=output, engine=engine)


@app.command("validate")
def validate_command(
    workbooks: Annotated[list[Path], typer.Argument(help="Workbooks to check.")],
    format_: Annotated[
        OutputFormat,
        typer.Option(
            "--format", help="text (one line per issue), json or csv (one row per issue)."
        ),
    ] = OutputFormat.text,
    template: Annotated[
        Path | None,
        typer.Option(help="The signed contract file: every term in the workbook must equal it."),
    ] = None,
) -> None:
    """Check workbooks: safe to open, the standard template, formulas intact, caches honest."""
    from kpixl.workbook.validate import issue_record, validate_workbook

    try:
        signed = None if template is None else load_contract(template)
    except KpixlError as e:
        fail(e)
    found = [(path, validate_workbook(path, expected=signed)) for path in workbooks]
    issues = [issue for _path, items in found for issue in items]
    rows = [issue_record(str(path), issue) for path, items in found for issue in items]
    if format_ is OutputFormat.json:
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    elif format_ is OutputFormat.csv:
        write_csv(rows)
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
