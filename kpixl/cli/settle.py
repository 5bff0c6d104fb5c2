"""``kpixl settle``: the settlement of a contract, as tables, JSON or CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kpixl.cli import bodies
from kpixl.cli.app import EncodingOption, FormatOption, app
from kpixl.cli.bodies import print_settlement as print_settlement  # noqa: PLC0414


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
    bodies.settle(
        contract=contract,
        actuals=actuals,
        adjustments=adjustments,
        as_json=as_json,
        as_csv=as_csv,
        format_=format_,
        encoding=encoding,
    )
