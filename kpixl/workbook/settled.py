"""One settlement per contract and actuals, shared by the sheets that show it.

Building a workbook settles its contract for the Settlement, Review and Pacing sheets, and
``kpixl batch`` once more for the summary rows: the same engine call on the same objects.
:func:`settled` and :func:`resolved` remember their last call, by the identity of their
arguments (all frozen: a contract, its checked actuals), so the later callers get the first
result instead of computing it again. The engine itself stays as it is.
"""

from __future__ import annotations

import threading

from kpixl.actuals import Actuals, Adjustments, PeriodData, resolve
from kpixl.engine.results import Settlement
from kpixl.engine.settle import settle
from kpixl.model import Contract

_LAST = threading.local()


def settled(contract: Contract, data: PeriodData) -> Settlement:
    """``settle(contract, data)``, remembered for the last contract and data of this thread."""
    last = getattr(_LAST, "settled", None)
    if last is not None and last[0] is contract and last[1] is data:
        result: Settlement = last[2]
        return result
    result = settle(contract, data)
    _LAST.settled = (contract, data, result)
    return result


def resolved(
    contract: Contract, actuals: Actuals | None, adjustments: Adjustments | None
) -> PeriodData | None:
    """Resolve actuals against the contract, or None when there are none (remembered likewise).

    Raises:
        ActualsError: the actuals or adjustments do not fit the contract.
    """
    if actuals is None:
        return None
    last = getattr(_LAST, "resolved", None)
    if last is not None and last[0] is contract and last[1] is actuals and last[2] is adjustments:
        data: PeriodData = last[3]
        return data
    data = resolve(contract, actuals, adjustments)
    _LAST.resolved = (contract, actuals, adjustments, data)
    return data
