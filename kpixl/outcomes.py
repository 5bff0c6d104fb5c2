"""Read a ``kpixl compare --outcomes`` CSV: a ``scenario`` column, then monthly metric values."""

from __future__ import annotations

from pathlib import Path

from kpixl.actuals import _read_csv
from kpixl.engine.outcomes import Outcome, outcomes_from_rows


def read_outcomes(path: str | Path) -> list[Outcome]:
    """Read outcomes (UTF-8, with or without BOM; comma, semicolon or tab separated).

    Args:
        path: the CSV file.

    Returns:
        One outcome per row, in file order.

    Raises:
        ActualsError: the file cannot be read (KX200/KX201).
        ContractError: a bad header or cell (KX128, naming the line and column).
    """
    header, rows = _read_csv(Path(path), str(path))
    return outcomes_from_rows(header, rows, str(path))
