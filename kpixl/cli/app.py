"""The ``kpixl`` app and what its command modules share: consoles, exit codes, options, errors."""

from __future__ import annotations

import csv
import importlib
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

# Re-exported for the command modules (they live in kpixl.cli.common, which imports no typer):
from kpixl.cli.common import EXIT_PROBLEMS as EXIT_PROBLEMS  # noqa: PLC0414
from kpixl.cli.common import EXIT_USAGE as EXIT_USAGE  # noqa: PLC0414
from kpixl.cli.common import OutputFormat as OutputFormat  # noqa: PLC0414
from kpixl.cli.common import _LazyConsole as _LazyConsole  # noqa: PLC0414
from kpixl.cli.common import err as err  # noqa: PLC0414
from kpixl.cli.common import fail as fail  # noqa: PLC0414
from kpixl.cli.common import fail_os
from kpixl.cli.common import out as out  # noqa: PLC0414
from kpixl.cli.common import output_format as output_format  # noqa: PLC0414
from kpixl.errors import Issue

if TYPE_CHECKING:
    from rich.table import Table

    from kpixl.workbook.layout import Lang, Mode


#: The command groups (modules of kpixl.cli), in ``kpixl --help`` order.
GROUPS = ("settle", "workbook", "documents", "pricing", "batch", "addin", "intake", "tracking")
#: The group of each command (a test checks it); a command not listed loads every group.
COMMANDS = {
    "settle": "settle",
    "schema": "workbook", "quote": "workbook", "recalc": "workbook", "validate": "workbook",
    "price": "pricing", "scenarios": "pricing", "compare": "pricing", "init": "pricing",
    "batch": "batch", "addin": "addin", "ingest": "intake", "pdf": "documents",
    "pace": "tracking", "review": "tracking",
}  # fmt: skip


class LazyTyper(typer.Typer):
    """A Typer app that imports its command modules the first time its commands are looked at.

    Start-up pays only for the commands that can run: ``main`` narrows ``groups`` to the group of
    the command on the command line (every group for ``--help`` or an unknown command), and a
    command module's heavy imports (numpy, pydantic, openpyxl) happen only when it is loaded.
    """

    groups: tuple[str, ...] = GROUPS
    _loaded: set[str]

    def _load(self) -> None:
        if self.__dict__.get("_loading"):
            return  # a command module's decorators, while it is being imported
        loaded = self.__dict__.setdefault("_loaded", set())
        self.__dict__["_loading"] = True
        try:
            for group in self.groups:
                if group not in loaded:
                    loaded.add(group)
                    importlib.import_module(f"kpixl.cli.{group}")
        finally:
            self.__dict__["_loading"] = False

    @property
    def registered_commands(self) -> list[Any]:
        self._load()
        return self.__dict__["_commands"]  # type: ignore[no-any-return]

    @registered_commands.setter
    def registered_commands(self, value: list[Any]) -> None:
        self.__dict__["_commands"] = value

    @property
    def registered_groups(self) -> list[Any]:
        self._load()
        return self.__dict__["_groups"]  # type: ignore[no-any-return]

    @registered_groups.setter
    def registered_groups(self, value: list[Any]) -> None:
        self.__dict__["_groups"] = value


app = LazyTyper(
    name="kpixl",
    help="KPI-linked service fees: settle contracts, build and check quoting workbooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from kpixl import __version__

        sys.stdout.write(f"kpixl {__version__}\n")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """KPI-linked service fees: settle contracts, build and check quoting workbooks."""


class SchemaKind(StrEnum):
    """Which JSON Schema ``kpixl schema`` prints."""

    contract = "contract"
    template = "template"
    mapping = "mapping"


class Formulas(StrEnum):
    """Formula mode of the workbooks ``kpixl quote`` and ``kpixl batch`` build."""

    native = "native"
    udf = "udf"


class Language(StrEnum):
    """Label language of a workbook."""

    en = "en"
    zh = "zh"
    both = "both"


FormatOption = Annotated[
    OutputFormat | None,
    typer.Option("--format", help="text (for people), json or csv (for programs)."),
]


FormulasOption = Annotated[
    Formulas, typer.Option(help="native (plain Excel formulas) or udf (KPIXL_*).")
]


def mode_of(formulas: Formulas) -> Mode:
    return "udf" if formulas is Formulas.udf else "native"


def lang_of(lang: Language) -> Lang:
    return "en" if lang is Language.en else "zh" if lang is Language.zh else "both"


EncodingOption = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="Encoding of CSV files that are neither UTF-8 nor marked by a BOM (e.g. gb18030).",
    ),
]


RateCardOption = Annotated[
    Path | None, typer.Option("--rate-card", help="Rate card YAML (default: the SAMPLE card).")
]


def print_wide(table: Table) -> None:
    """Print a table at its natural width so numbers are never cut to '…' on a narrow stdout."""
    from rich.console import Console
    from rich.measure import Measurement

    width = Measurement.get(out, out.options.update_width(1000), table).maximum
    # A console prints no wider than itself: a wider one just for this table.
    Console(highlight=False, soft_wrap=True, width=max(out.width, width)).print(table)


def parse_levels(text: str | None) -> tuple[float, ...] | None:
    """Parse ``--levels 0,0.5,0.8`` into ascending attainment levels (usage error otherwise)."""
    if text is None:
        return None
    from kpixl import ratecard  # pydantic: loaded by the commands that take levels, not by all

    try:
        return ratecard.parse_levels(text)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e


LevelsOption = Annotated[
    str | None,
    typer.Option("--levels", help="Attainment levels, e.g. 0,0.5,0.8,1,1.2,1.5."),
]


def write_csv(rows: list[dict[str, Any]]) -> None:
    """Print rows as CSV to stdout (a header, then one line per row; nothing without rows)."""
    if not rows:
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def located(path: Path, issue: Issue) -> Issue:
    """The issue located in a file (``c.yaml: fee.base``)."""
    return Issue(f"{path}: {issue.location}", issue.code, issue.message, issue.severity)


def main() -> None:
    """Run the typer app (``kpixl.cli.main`` runs what its fast path does not understand here)."""
    args = sys.argv[1:]
    group = COMMANDS.get(args[0]) if args else None
    if group is not None:
        app.groups = (group,)
    try:
        app()
    except OSError as e:  # an unwritable output folder, a full disk, a permission
        fail_os(e)
