"""kpixl: KPI-linked service fees, settled to the cent in Python and in Excel.

The public names load on first use (``kpixl.settle``, ``from kpixl import load_contract``), so
``import kpixl`` and ``kpixl --version`` cost nothing: numpy and pydantic load only for a command
that settles or reads a contract.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpixl.actuals import Actuals, Adjustments
    from kpixl.engine.many import settle_many
    from kpixl.engine.results import KpiResult, PeriodResult, Settlement
    from kpixl.engine.settle import settle
    from kpixl.errors import Issue, KpixlError
    from kpixl.model import Contract, load_contract

    # CSV or .xlsx (through the workbook layer's safe loading): the API a notebook calls.
    from kpixl.workbook.tables import read_actuals, read_adjustments

__version__ = "0.1.0"

#: Where each public name lives: imported on first access.
_HOMES = {
    "Actuals": "kpixl.actuals",
    "Adjustments": "kpixl.actuals",
    "read_actuals": "kpixl.workbook.tables",  # CSV or .xlsx
    "read_adjustments": "kpixl.workbook.tables",
    "settle_many": "kpixl.engine.many",
    "KpiResult": "kpixl.engine.results",
    "PeriodResult": "kpixl.engine.results",
    "Settlement": "kpixl.engine.results",
    "settle": "kpixl.engine.settle",
    "Issue": "kpixl.errors",
    "KpixlError": "kpixl.errors",
    "Contract": "kpixl.model",
    "load_contract": "kpixl.model",
}

__all__ = [
    "Actuals",
    "Adjustments",
    "Contract",
    "Issue",
    "KpiResult",
    "KpixlError",
    "PeriodResult",
    "Settlement",
    "__version__",
    "load_contract",
    "read_actuals",
    "read_adjustments",
    "settle",
    "settle_many",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'kpixl' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later accesses skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
