"""``kpixl addin``: the Excel add-in (xlwings UDFs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kpixl.cli.app import (
    app,
    fail,
    out,
)
from kpixl.errors import KpixlError

if TYPE_CHECKING:
    pass


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
