"""The ``kpixl`` command line: results to stdout, diagnostics to stderr, exit 0 / 1 / 2.

One module per command group; importing one registers its commands on ``app``, in the order
``kpixl --help`` lists them.
"""

# isort: off
from kpixl.cli.app import app, main
from kpixl.cli import settle, workbook, pricing, batch, addin, intake
# isort: on

__all__ = ["addin", "app", "batch", "intake", "main", "pricing", "settle", "workbook"]
