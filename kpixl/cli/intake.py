"""``kpixl ingest``: platform exports to actuals, daily rows and evidence (SPEC §11)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from kpixl.atomic import atomic_write_text
from kpixl.cli.app import EXIT_USAGE, app, err, fail, out
from kpixl.errors import Issue, KpixlError
from kpixl.intake import (
    Export,
    ExportTable,
    Ingested,
    SourceFigures,
    actuals_csv,
    apply_mapping,
    combine,
    daily_csv,
    evidence_json,
    load_mapping,
)
from kpixl.intake.issues import EXPORT_UNREADABLE
from kpixl.intake.read import csv_table, decode, read_bytes, sha256_of
from kpixl.model import load_contract


@app.command("ingest")
def ingest_command(
    contract: Annotated[Path, typer.Argument(help="Contract file (YAML or JSON).")],
    sources: Annotated[
        list[str],
        typer.Option(
            "--source",
            metavar="MAPPING=EXPORT",
            help="MAPPING=EXPORT: a shipped mapping's name (amazon-business-report, "
            "amazon-ads-campaign, shopify-orders) or a mapping file, and the export (CSV/XLSX).",
        ),
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="The actuals CSV to write.")],
    daily: Annotated[
        Path | None, typer.Option(help="Also write one row per calendar day (for kpixl pace).")
    ] = None,
    evidence: Annotated[
        Path | None, typer.Option(help="Also write what was read, with SHA-256 (JSON).")
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="Encoding of CSV exports that are neither UTF-8 nor marked by a BOM."),
    ] = None,
    through: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM-DD",
            help="Data complete through this day (default: earliest last date).",
        ),
    ] = None,
) -> None:
    """Turn platform exports into the actuals of complete periods, and keep the evidence."""
    pairs = [_split_source(spec) for spec in sources]
    until = _parse_through(through)
    try:
        terms = load_contract(contract)
        figures = [_read_source(mapping, path, encoding) for mapping, path in pairs]
        result = combine(terms, figures, until)
    except KpixlError as e:
        fail(e)
    texts = {output: actuals_csv(result)}
    if daily is not None:
        texts[daily] = daily_csv(result)
    if evidence is not None:
        texts[evidence] = evidence_json(result)
    for path, text in texts.items():
        atomic_write_text(path, text)
    _report(result)
    for path in texts:
        err.print(f"wrote {path}", markup=False)


def _split_source(spec: str) -> tuple[str, Path]:
    mapping, sep, export = spec.partition("=")
    if not sep or not mapping.strip() or not export.strip():
        err.print(f"error: --source takes MAPPING=EXPORT, not {spec!r}")
        raise typer.Exit(EXIT_USAGE)
    return mapping.strip(), Path(export.strip())


def _parse_through(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        err.print(f"error: --through takes a date as YYYY-MM-DD, not {text!r}")
        raise typer.Exit(EXIT_USAGE) from None


def _read_source(mapping_spec: str, path: Path, encoding: str | None) -> SourceFigures:
    """Read one export through its mapping; raise every problem it has."""
    from kpixl.workbook.tables import SheetRows, is_xlsx

    mapping = load_mapping(mapping_spec)
    label = str(path)
    reference = Path(mapping_spec).name
    digest = sha256_of(path, label)
    header: Sequence[Any]
    if is_xlsx(path):
        with SheetRows(path, label, mapping.sheet) as sheet:
            rows = sheet.rows
            header_number, header = _xlsx_header(rows, mapping.skip_rows, label)
            table = ExportTable(label, sheet.sheet, rows)
            export = Export(mapping, reference, path.name, digest, header_number, header, table)
            figures, issues = apply_mapping(export)
    else:
        text = decode(read_bytes(path, label), label, encoding)
        header_number, header, table = csv_table(text, label, mapping.skip_rows)
        export = Export(mapping, reference, path.name, digest, header_number, header, table)
        figures, issues = apply_mapping(export)
    if issues:
        raise KpixlError.from_issues(issues)
    return figures


def _xlsx_header(
    rows: Iterator[tuple[int, tuple[Any, ...]]], skip_rows: int, label: str
) -> tuple[int, tuple[Any, ...]]:
    for number, values in rows:
        if number <= skip_rows or all(v is None or not str(v).strip() for v in values):
            continue
        return number, values
    raise KpixlError.from_issues(
        [Issue(label, EXPORT_UNREADABLE, "has no header row (the sheet is empty)")]
    )


def _report(result: Ingested) -> None:
    """Print what was read and which periods are complete (stdout)."""
    out.print(f"{result.contract}: data complete through {result.through}", markup=False)
    for source in result.sources:
        out.print(
            f"  {source.name} ({source.mapping}): {source.rows} rows, "
            f"{source.first_date} .. {source.last_date}, sha256 {source.sha256[:12]}…",
            markup=False,
        )
    for period in result.periods:
        days = (period.last - period.first).days + 1
        if period.complete:
            status = "complete: written to the actuals"
        else:
            status = f"partial through {result.through}: not settled (in --daily only)"
        out.print(
            f"  {period.label}: {period.days_with_data} of {days} days with data, {status}",
            markup=False,
        )
    if result.outside:
        out.print(f"  {result.outside} dates outside the contract's periods left out", markup=False)
