"""Facts computed once per template schema's cells instead of once per workbook.

Every workbook of one shape shares its schema's ``cells`` tuple (``kpixl.workbook.shape``
hands a cache hit its shape's schema; ``template_schema`` returns recent schemas again), so a
list derived from the cells alone (which cells are Pacing formulas, which hold input values)
is remembered by the identity of that tuple, kept alive beside the list so that the identity
cannot be reused by another tuple while the entry exists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from kpixl.workbook.layout import CellSpec

T = TypeVar("T")

#: At most this many entries (two facts for each of the shape cache's 16 shapes); all are
#: dropped when it is reached.
KEPT = 32
_KNOWN: dict[tuple[int, str], tuple[tuple[CellSpec, ...], Any]] = {}
_LOCK = threading.Lock()


def per_cells(cells: tuple[CellSpec, ...], what: str, make: Callable[[], T]) -> T:
    """``make()``, remembered for these very cells under the name ``what``.

    ``make`` must depend on nothing but ``cells`` (and constants): the name says which fact.
    """
    key = (id(cells), what)
    known = _KNOWN.get(key)
    if known is not None and known[0] is cells:
        result: T = known[1]
        return result
    result = make()
    with _LOCK:
        if len(_KNOWN) >= KEPT:
            _KNOWN.clear()
        _KNOWN[key] = (cells, result)
    return result
