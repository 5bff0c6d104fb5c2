"""kpixl: KPI-linked service fees, settled to the cent in Python and in Excel."""

from kpixl.actuals import Actuals, Adjustments
from kpixl.engine.results import KpiResult, PeriodResult, Settlement
from kpixl.engine.settle import settle
from kpixl.errors import Issue, KpixlError
from kpixl.model import Contract, load_contract

# CSV or .xlsx (through the workbook layer's safe loading): the API a notebook calls.
from kpixl.workbook.tables import read_actuals, read_adjustments

__version__ = "0.1.0"

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
]
