"""``kpixl pdf``: the client-facing sheets of a workbook as a PDF, through LibreOffice."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kpixl.cli.app import EXIT_USAGE, app, err, fail
from kpixl.errors import KpixlError


@app.command("pdf")
def pdf_command(
    workbook: Annotated[Path, typer.Argument(help="A kpixl workbook.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The PDF to write.")],
    sheets: Annotated[
        str, typer.Option(help="Sheets to print, comma-separated, e.g. Quote,Statement.")
    ] = "Quote,Statement",
    period: Annotated[
        str | None,
        typer.Option(help="The period the Statement shows, e.g. 2027-03 (default: as saved)."),
    ] = None,
) -> None:
    """Print the client-facing sheets to PDF with headless LibreOffice (A4, CJK fonts)."""
    from kpixl.documents.pdf import NoLibreOffice, PdfUsageError, workbook_to_pdf

    names = [name.strip() for name in sheets.split(",") if name.strip()]
    try:
        workbook_to_pdf(workbook, output, names, period)
    except (NoLibreOffice, PdfUsageError) as e:
        for issue in e.issues or []:
            err.print(f"[red]error[/red] {issue.location}: {issue.code} {issue.message}")
        raise typer.Exit(EXIT_USAGE) from e
    except KpixlError as e:
        fail(e)
    err.print(f"wrote {output} ({', '.join(names)})")
