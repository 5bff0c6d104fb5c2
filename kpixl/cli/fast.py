"""The ``kpixl`` entry point: ``settle`` and ``recalc`` without building the typer app.

Typer and click cost ~35 ms to import and to build a command, more than a small settlement takes.
For the commands in ``FAST``, ``main`` parses argv itself when it fully understands it —
positional arguments, the command's options as ``--name value`` or ``--name=value``, its
flags, each given at most once — and calls the command's body (``kpixl.cli.bodies``) with the
keyword arguments typer would pass. Anything else (``--help``, an unknown or repeated option, a
missing or extra argument, a value typer would refuse or check) goes to the typer app, which
prints the usual usage error or help. ``FAST`` restates each command's typer parameters;
tests/test_fast_cli.py checks it against the typer command and both paths against each other.
"""

from __future__ import annotations

import errno
import gc
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpixl.cli.common import OutputFormat, fail_os


@dataclass(frozen=True)
class Param:
    """One parameter of a command, as its typer declaration has it."""

    #: The body's keyword (click's parameter name).
    name: str
    #: The option's names (``--json``, ``-o``); none for a positional argument.
    opts: tuple[str, ...]
    #: What typer converts the value to: Path, str, bool (a flag) or an enum.
    kind: type
    default: Any = None


#: The commands the fast path runs: the body's name in kpixl.cli.bodies and its parameters.
FAST: dict[str, tuple[str, tuple[Param, ...]]] = {
    "settle": ("settle", (
        Param("contract", (), Path),
        Param("actuals", (), Path),
        Param("adjustments", ("--adjustments",), Path),
        Param("as_json", ("--json",), bool, False),
        Param("as_csv", ("--csv",), bool, False),
        Param("format_", ("--format",), OutputFormat),
        Param("encoding", ("--encoding",), str),
    )),
    "recalc": ("recalc", (
        Param("workbook", (), Path),
        Param("output", ("-o", "--output"), Path),
        Param("engine", ("--engine",), str, "kpixl"),
    )),
}  # fmt: skip


class _Unsure(Exception):
    """argv the fast path does not fully understand: typer decides."""


def _value(param: Param, text: str) -> Any:
    """``text`` converted as typer converts it, or _Unsure where typer might refuse or check it."""
    if text.startswith("-") or "\0" in text:
        raise _Unsure  # an option's value that looks like an option; a name no OS accepts
    if param.kind is str:
        return text
    if param.kind is Path:
        path = Path(text)
        # Typer refuses an existing path it cannot read (a usage error): let it say so.
        if path.exists() and not os.access(path, os.R_OK):
            raise _Unsure
        return path
    if issubclass(param.kind, OutputFormat):
        if text not in param.kind.__members__.values():
            raise _Unsure
        return param.kind(text)
    raise _Unsure


def parse(args: list[str]) -> tuple[str, dict[str, Any]] | None:
    """The body and keyword arguments of a fast command line, or None for typer to handle it."""
    if not args or args[0] not in FAST:
        return None
    if os.name == "nt" and any(c in arg for arg in args for c in "*?[~$%"):
        return None  # typer expands wildcards and variables on Windows
    if any(key.startswith("_") and key.endswith("_COMPLETE") for key in os.environ):
        return None  # a shell asking typer for completions
    body, params = FAST[args[0]]
    try:
        kwargs = _keywords(params, args[1:])
    except _Unsure:
        return None
    return body, {param.name: kwargs.get(param.name, param.default) for param in params}


def _keywords(params: tuple[Param, ...], tail: list[str]) -> dict[str, Any]:
    """The values given on the command line, by keyword; _Unsure at anything unusual."""
    options = {opt: param for param in params for opt in param.opts}
    positional = iter([param for param in params if not param.opts])
    kwargs: dict[str, Any] = {}
    words = iter(tail)
    for arg in words:
        if not arg.startswith("-"):
            param = next(positional, None)
            if param is None:
                raise _Unsure  # an extra argument
            kwargs[param.name] = _value(param, arg)
            continue
        name, equals, text = arg.partition("=")
        param = options.get(name if name.startswith("--") else arg)
        if param is None or param.name in kwargs:
            raise _Unsure  # unknown (--help, --, -oFILE) or repeated
        if param.kind is bool:
            if equals:
                raise _Unsure
            kwargs[param.name] = True
            continue
        if not equals:
            following = next(words, None)
            if following is None:
                raise _Unsure  # an option without its value
            text = following
        kwargs[param.name] = _value(param, text)
    if next(positional, None) is not None:
        raise _Unsure  # a missing argument
    return kwargs


def main() -> None:
    """Entry point of the ``kpixl`` command: any file the system refuses is a clean error."""
    args = sys.argv[1:]
    if args == ["--version"]:  # answered before typer builds any command
        from kpixl import __version__

        sys.stdout.write(f"kpixl {__version__}\n")
        return
    call = parse(args)
    if call is None:
        from kpixl.cli.app import main as typer_main

        typer_main()
        return
    from kpixl.cli import bodies

    name, kwargs = call
    body: Callable[..., None] = getattr(bodies, name)
    # The imports allocate ~10^5 objects that live to the end, and the collector scans them
    # again and again (~3 % of the command). Settling and the kpixl engine's recalc leave next
    # to no cyclic garbage, so the collector waits until the command is done; the formulas
    # engine (large graphs of cells) keeps it.
    paused = gc.isenabled() and kwargs.get("engine", "kpixl") == "kpixl"
    if paused:
        gc.disable()
    try:
        body(**kwargs)
    except KeyboardInterrupt:
        sys.exit(130)  # as typer exits
    except OSError as e:
        if e.errno == errno.EPIPE:  # as typer: a closed pipe (| head) is no error to print
            sys.exit(1)
        fail_os(e)
    finally:
        if paused:
            gc.enable()
