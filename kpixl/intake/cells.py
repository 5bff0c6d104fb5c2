"""Reading one export cell: money, counts and percentages as platforms write them, and dates."""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation

Cell = str | float | int | bool | dt.datetime | dt.date | None

# What may stand before or after an amount: a currency code or sign (US$, RM, ￥, €, 元, ...).
_AFFIX = re.compile(r"^(?:[A-Z]{1,3}|Rp)?[$€£¥￥₹₩₫฿₱₽₺元]?(?:[A-Z]{3})?$")
_SPLIT = re.compile(r"^(?P<pre>[^\d.,]*?)(?P<body>\d[\d.,' ]*|[.,]\d[\d]*)(?P<post>[^\d]*)$")
_BLANKS = str.maketrans("", "", "\u00a0\u202f\u2009\u3000 \t")


def blank(cell: Cell) -> bool:
    """True for an empty cell (None, or text of spaces only)."""
    return cell is None or (isinstance(cell, str) and not cell.strip())


def parse_amount(cell: Cell, decimal: str = "point") -> Decimal:
    """An amount as written in an export: ``$1,234.56``, ``₹1,08,218.36``, ``(12.50)``, ``12.5%``.

    Args:
        cell: the cell as read (text from a CSV, a number from an XLSX).
        decimal: ``point`` (1,234.56) or ``comma`` (1.234,56), as the mapping says.

    Returns:
        The exact decimal value; a percentage is divided by 100.

    Raises:
        ValueError: a message fit for a user (empty, not an amount, ambiguous separators).
    """
    if isinstance(cell, bool) or isinstance(cell, dt.date):
        raise ValueError(f"is not a number: {cell!r}")
    if isinstance(cell, int):
        return Decimal(cell)
    if isinstance(cell, float):
        if not math.isfinite(cell):
            raise ValueError(f"is not a finite number: {cell!r}")
        return Decimal(repr(cell))  # the shortest text that is this double, as Excel shows it
    if blank(cell):
        raise ValueError("is empty")
    text = str(cell).strip()
    value = _parse_text(text.translate(_BLANKS).replace("\u2212", "-"), decimal)
    if value is None:
        raise ValueError(f"is not an amount: {text!r}")
    return value


def _parse_text(text: str, decimal: str) -> Decimal | None:
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    percent = text.endswith("%")
    if percent:
        text = text[:-1]
    for sign in ("-", "+"):
        # The sign may sit before or after a currency sign: -$12.50, $-12.50, -12.50 €.
        if sign in text and text.count(sign) == 1 and not text.endswith(sign):
            at = text.index(sign)
            if not any(ch.isdigit() for ch in text[:at]):
                negative ^= sign == "-"
                text = text[:at] + text[at + 1 :]
    match = _SPLIT.match(text)
    if match is None or not _AFFIX.match(match["pre"]) or not _AFFIX.match(match["post"]):
        return None
    number = _plain_number(match["body"].strip(), decimal)
    if number is None:
        return None
    try:
        value = Decimal(number)
    except InvalidOperation:
        return None
    if percent:
        value = value / 100
    return -value if negative else value


def _plain_number(body: str, decimal: str) -> str | None:
    """Drop thousands separators (Western 1,234,567 or Indian 12,34,567) and use a point."""
    point, group = (".", ",") if decimal == "point" else (",", ".")
    body = body.replace(" ", "").replace("'", "" if decimal == "comma" else "'")
    if body.count(point) > 1:
        return None
    whole, _, fraction = body.partition(point)
    if group in fraction or (fraction and not fraction.isdigit()):
        return None
    if group in whole:
        groups = whole.split(group)
        head, middle, tail = groups[0], groups[1:-1], groups[-1]
        if not (1 <= len(head) <= 3 and len(tail) == 3):
            return None
        if any(len(g) not in (2, 3) for g in middle):
            return None
        whole = "".join(groups)
    if not whole.isdigit() and not (whole == "" and fraction):
        return None
    return f"{whole or '0'}.{fraction}" if fraction else whole


def parse_text_value(cell: Cell) -> str:
    """A cell read as text (an order number for count_distinct); numbers keep their Excel form."""
    if blank(cell):
        raise ValueError("is empty")
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


class DateReader:
    """Reads a date column with the mapping's formats; remembers texts already read."""

    def __init__(self, formats: tuple[str, ...]) -> None:
        self.formats = formats
        self._seen: dict[str, dt.date] = {}

    def read(self, cell: Cell) -> dt.date:
        """The date of a cell: an Excel date cell as typed, or text in one of the formats.

        Raises:
            ValueError: empty, no format reads it, or two formats read it as different days.
        """
        if isinstance(cell, dt.datetime):
            return cell.date()
        if isinstance(cell, dt.date):
            return cell
        if blank(cell):
            raise ValueError("has no date")
        if not isinstance(cell, str):
            # A number in a date column: Excel serials are never guessed.
            raise ValueError(f"is not a date: {cell!r} (a number, not a date cell or text)")
        text = " ".join(cell.split())
        known = self._seen.get(text)
        if known is not None:
            return known
        found: dict[dt.date, str] = {}
        for fmt in self.formats:
            try:
                found.setdefault(dt.datetime.strptime(text, fmt).date(), fmt)
            except ValueError:
                continue
        if not found:
            formats = ", ".join(self.formats)
            raise ValueError(f"is not a date in the mapping's formats ({formats}): {cell!r}")
        if len(found) > 1:
            readings = ", ".join(f"{day} by {fmt}" for day, fmt in sorted(found.items()))
            raise ValueError(f"is ambiguous: {cell!r} reads as {readings}")
        day = next(iter(found))
        self._seen[text] = day
        return day
