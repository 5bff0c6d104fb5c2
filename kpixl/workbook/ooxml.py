"""OOXML package helpers shared by the safety check, the hazard scanner, the patcher, the
in-memory verifier and the layout: relationship targets and column letters, one definition each.

The hazard scanner and the patcher must look at the same parts: both resolve a relationship
target here (percent-decoded, against the folder of the part holding the relationship).
"""

from __future__ import annotations

import functools
import posixpath
from urllib.parse import unquote


def rels_part(part: str) -> str:
    """The relationships part of a part: ``xl/workbook.xml`` -> ``xl/_rels/workbook.xml.rels``
    (``""``, the package itself, -> ``_rels/.rels``)."""
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve_target(source_part: str, target: str) -> str:
    """The part a relationship target names, resolved against the part holding it.

    Args:
        source_part: the part the relationship belongs to (``""`` for the package).
        target: the Target attribute (relative, or absolute from the package root; may be
            percent-encoded).

    Returns:
        The part name without a leading slash, normalised (``xl/worksheets/sheet1.xml``).
    """
    target = unquote(target)
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


@functools.lru_cache(maxsize=1 << 14)
def column_number(letters: str) -> int:
    """Column letters to a 1-based number: ``A`` -> 1, ``XFD`` -> 16384 (any case)."""
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - ord("A") + 1
    return number


@functools.lru_cache(maxsize=1 << 14)
def column_letters(number: int) -> str:
    """A 1-based column number to its letters: 1 -> ``A``, 28 -> ``AB`` (0 -> ``""``)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def escape_text(text: str) -> str:
    """``text`` as XML character data: ``&``, ``<`` and ``>`` escaped, as ``xml.sax.saxutils``
    does (that module imports urllib.request and http.client: 10 ms of every ``recalc``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
