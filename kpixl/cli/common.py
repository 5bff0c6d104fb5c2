"""What every command shares without typer: consoles, exit codes, ``--format``, errors.

Nothing here imports typer or rich (rich is imported when a console first needs it), so the
fast path of ``kpixl.cli.fast`` can run a command body without building the typer app.
``kpixl.cli.app`` re-exports these names for the command modules.
"""

from __future__ import annotations

import re
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NoReturn

from kpixl.errors import KpixlError

if TYPE_CHECKING:
    from rich.console import Console

#: A line rich would print as it is: printable ASCII without markup (``[``), emoji codes
#: (``:name:``) or escapes (``\\``).
_PLAIN = re.compile(r"(?!.*:\S*:)[ -Z^-~]*")


class _LazyConsole:
    """A rich Console made on first use (rich costs ~30 ms to import; a command that prints only
    plain lines, like ``recalc``'s summary, never needs it); plain lines are written directly,
    exactly as the console would print them."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def print(self, *objects: Any, **options: Any) -> None:
        # Only while no console exists: once one does, a live display (a progress bar) may be
        # drawing on it, and every line must go through it.
        if self._console is None and not options and len(objects) == 1:
            if isinstance(objects[0], str) and _PLAIN.fullmatch(objects[0]):
                (sys.stderr if self._stderr else sys.stdout).write(objects[0] + "\n")
                return
        self._made().print(*objects, **options)

    def _made(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False, soft_wrap=True)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self._made(), name)

    def __enter__(self) -> Console:  # rich's live displays use their console as a context
        return self._made().__enter__()

    def __exit__(self, *exc: object) -> None:
        self._made().__exit__(*exc)


out: Console = _LazyConsole()  # type: ignore[assignment]


err: Console = _LazyConsole(stderr=True)  # type: ignore[assignment]


EXIT_PROBLEMS = 1


EXIT_USAGE = 2


class OutputFormat(StrEnum):
    """How a command with machine output prints its results (``--format``)."""

    text = "text"
    json = "json"
    csv = "csv"


def output_format(
    chosen: OutputFormat | None, as_json: bool = False, as_csv: bool = False
) -> OutputFormat:
    """The one output format of ``--format`` and its aliases ``--json`` / ``--csv``."""
    picked = {f for f, on in ((OutputFormat.json, as_json), (OutputFormat.csv, as_csv)) if on}
    if chosen is not None:
        picked.add(chosen)
    if len(picked) > 1:
        err.print("error: choose one of --format, --json and --csv")
        sys.exit(EXIT_USAGE)
    return picked.pop() if picked else OutputFormat.text


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
    sys.exit(EXIT_PROBLEMS)


def fail_os(error: OSError) -> NoReturn:
    """An unwritable output folder, a full disk, a permission: name the file, exit 1."""
    where = "kpixl" if error.filename is None else str(error.filename)
    # Name the file the user asked for, not the temporary one it was being written as.
    where = re.sub(r"\.[0-9a-f]{12}\.tmp$", "", where)
    err.print(f"[red]error[/red] {where}: {error.strerror or error}")
    sys.exit(EXIT_PROBLEMS)
