"""The ``kpixl`` command line: results to stdout, diagnostics to stderr, exit 0 / 1 / 2.

One module per command group (``GROUPS`` in ``kpixl.cli.app``); importing one registers its
commands on ``app``, in the order ``kpixl --help`` lists them. The app imports the groups itself
when its commands are first looked at, and ``kpixl <command>`` imports only that command's
group: start-up pays only for what the command uses.
"""

from kpixl.cli.app import GROUPS, app, main

__all__ = ["GROUPS", "app", "main"]
