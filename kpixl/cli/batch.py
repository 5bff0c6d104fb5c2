"""``kpixl batch``: regenerate the workbooks of a portfolio."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kpixl.cli.app import (
    EXIT_PROBLEMS,
    EXIT_USAGE,
    EncodingOption,
    Formulas,
    FormulasOption,
    RateCardOption,
    app,
    err,
    fail,
    mode_of,
    out,
)
from kpixl.errors import KpixlError

if TYPE_CHECKING:
    pass


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
    encoding: EncodingOption = None,
) -> None:
    """Regenerate the workbooks of a portfolio: parallel, resumable, failures isolated."""
    from kpixl.batch import BatchOptions, BatchUsageError, run_batch
    from kpixl.progress import BatchProgress, summary_table

    options = BatchOptions(
        out_dir, jobs, mode_of(formulas), force, executor, rate_card=rate_card, encoding=encoding
    )
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
