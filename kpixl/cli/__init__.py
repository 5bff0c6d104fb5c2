"""The ``kpixl`` command line: results to stdout, diagnostics to stderr, exit 0 / 1 / 2.

One module per command group (``GROUPS`` in ``kpixl.cli.app``); importing one registers its
commands on ``app``, in the order ``kpixl --help`` lists them. The app imports the groups itself
when its commands are first looked at, and ``kpixl <command>`` imports only that command's
group: start-up pays only for what the command uses. ``main`` (``kpixl.cli.fast``) runs
``kpixl settle`` and ``kpixl recalc`` without typer when it fully understands their argv;
``app`` and ``GROUPS`` are imported (with typer) when first asked for.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from kpixl.cli.fast import main

if TYPE_CHECKING:
    from kpixl.cli.app import GROUPS, app

__all__ = ["GROUPS", "app", "main"]


def __getattr__(name: str) -> Any:
    if name in ("GROUPS", "app"):
        return getattr(importlib.import_module("kpixl.cli.app"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Package(types.ModuleType):
    """This package, whose ``app`` is the typer app, never its module ``kpixl.cli.app``."""

    def __setattr__(self, name: str, value: Any) -> None:
        # Importing kpixl.cli.app binds the module here as ``app``: bind the typer app instead,
        # as the package did when it imported the app itself.
        if name == "app" and isinstance(value, types.ModuleType):
            value = value.app
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
