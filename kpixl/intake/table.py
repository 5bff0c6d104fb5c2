"""An export as rows of cells, wherever it was read from, and how its cells are named."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kpixl.intake.cells import Cell


@dataclass(frozen=True)
class ExportTable:
    """The rows of one export: from a CSV (``sheet`` None, numbered by line) or one sheet.

    ``rows`` yields ``(number, cells)``: the CSV line a record starts on, or the sheet row.
    It may be a stream that can be read once.
    """

    file: str
    sheet: str | None
    rows: Iterable[tuple[int, Sequence[Cell]]]

    def where(self, number: int, index: int | None = None, column: str | None = None) -> str:
        """Name a row or a cell for a user: ``r.csv: line 7, column 'Spend'`` or ``Sheet1!C7``."""
        if self.sheet is None:
            place = f"{self.file}: line {number}"
            return place if column is None else f"{place}, column {column!r}"
        if index is None:
            return f"{self.file}: {self.sheet}!{number}:{number}"
        place = f"{self.file}: {self.sheet}!{column_letters(index)}{number}"
        return place if column is None else f"{place} (column {column!r})"


def column_letters(index: int) -> str:
    """Excel's letters of a 0-based column index: 0 → A, 27 → AB."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
