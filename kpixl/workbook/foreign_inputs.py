"""Inputs as other spreadsheet applications save them, read as the values a person typed.

LibreOffice stores a typed boolean as the formula ``FALSE()``; WPS and Numbers store numbers
as text in a cell formatted as text; a date may arrive as a serial number without its date
format, or as ISO text; a boolean as 0/1. SPEC §7: whatever an application legitimately writes
for a value a person typed is read as that value. This is the one place that does it, for the
reader, the validator and ``kpixl recalc`` alike: the workbook, as openpyxl loaded it (formulas,
not values), is rewritten in memory before anything reads its inputs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

from kpixl.workbook.layout import QUOTE, QUOTE_FIELDS, CellSpec, Layout, cell

#: The sheets whose cells hold inputs (the hidden _kpixl sheet is kpixl's own record).
INPUT_SHEETS = (
    "Quote",
    "KPIs",
    "Tiers",
    "Guardrails",
    "Actuals",
    "RateCard",
    "Statement",
    "Pacing",
)
#: Every formula :func:`~kpixl.workbook.formula_tokens.constant_value` may call a constant, and
#: more: a sign, then a number, a text literal or a name with an optional ``()``. Only these are
#: tokenized (openpyxl's tokenizer costs its import); Google Sheets' wrapper is always tokenized.
_MAYBE_CONSTANT = re.compile(
    r'=\s*[-+]?\s*(?:[0-9.][0-9.eE+-]*|"(?:[^"]|"")*"|[A-Za-z_.]+\s*(?:\(\s*\))?)\s*', re.S
)
_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
_STYLE_WARNINGS = ("Workbook contains no default style",)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
#: Excel's serial range for dates (1900-01-01 .. 9999-12-31).
_SERIALS = (1, 2958465)


def rewritten_styles(message: str) -> bool:
    """Whether an openpyxl warning only says another application rewrote the styles.

    Gnumeric saves no default cell style; styles are not a finding (SPEC §7).
    """
    return message.startswith(_STYLE_WARNINGS)


@contextlib.contextmanager
def quiet_rewritten_styles() -> Iterator[None]:
    """Silence openpyxl's warning about styles another application rewrote (not a finding)."""
    with warnings.catch_warnings():
        for message in _STYLE_WARNINGS:
            warnings.filterwarnings("ignore", message=re.escape(message), category=UserWarning)
        yield


def adopt_constants(book: Any) -> None:
    """Replace every constant formula in an input sheet (``=FALSE()``, ``=3``) by its value.

    Template formulas are never constants, so a constant formula is a value a person typed
    (LibreOffice saves a typed boolean so), and the Quote header fields, read before the
    contract is known, get their types too.

    Args:
        book: the workbook as openpyxl or the XML reader loaded it (formulas, not values); changed
            in place.
    """
    for name in INPUT_SHEETS:
        if name not in book.sheetnames:
            continue
        for item in _cells(book[name]):
            value = item.value
            # data_type "f": a formula; text that merely starts with "=" stays text.
            if item.data_type == "f" and isinstance(value, str) and _maybe_constant(value):
                from kpixl.workbook.formula_tokens import constant_value  # openpyxl's tokenizer

                found, constant = constant_value(value)
                if found:
                    item.value = constant
    if QUOTE in book.sheetnames:
        sheet = book[QUOTE]
        for column in QUOTE_FIELDS:
            item = sheet[cell(Layout.quote_row(column.key), Layout.quote_col)]
            item.value = typed(item.value, column.value_type)


def _maybe_constant(formula: str) -> bool:
    """False only for a formula that cannot be a constant (most hold a reference or a call)."""
    text = formula.strip()
    return bool(_MAYBE_CONSTANT.fullmatch(text)) or "DUMMYFUNCTION" in text.upper()


def adopt_inputs(book: Any, specs: Iterable[CellSpec]) -> bool:
    """Give every input cell of the template the type the template expects, where it can be.

    Args:
        book: the workbook as openpyxl or the XML reader loaded it; changed in place.
        specs: the template schema's cells (only inputs are looked at).

    Returns:
        True when any cell changed.
    """
    changed = False
    sheets = {name: book[name] for name in book.sheetnames}
    for spec in specs:
        sheet = sheets.get(spec.sheet)
        if spec.kind != "input" or sheet is None:
            continue
        item = sheet[spec.ref]
        if item.value is None:
            continue
        value = typed(item.value, spec.value_type)
        if value is not item.value:
            item.value = value
            changed = True
    return changed


def _cells(sheet: Any) -> Iterable[Any]:
    """The cells a sheet holds; iter_rows would create every empty cell of its rectangle."""
    stored = getattr(sheet, "_cells", None)  # openpyxl's own store, by (row, column)
    if isinstance(stored, dict):
        return list(stored.values())
    return [item for row in sheet.iter_rows() for item in row]


def typed(value: Any, value_type: str) -> Any:
    """A cell value as the template's type wants it, when it is that value in another spelling.

    Args:
        value: what the cell holds.
        value_type: ``number``, ``integer``, ``date``, ``bool`` or ``text``.

    Returns:
        The value converted (``"1,250.5"`` to 1250.5 for a number, 46023 to a date, 0/1 to a
        boolean ...), or the value unchanged when it is not one (the validator reports it).
    """
    if value is None or isinstance(value, dt.time):
        return value
    convert = _CONVERTERS.get(value_type)
    return value if convert is None else convert(value)


def _number(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100
        return float(text) if text else value
    except ValueError:
        return value


def _integer(value: Any) -> Any:
    number = _number(value)
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number


def _date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and _SERIALS[0] <= value <= _SERIALS[1]:
        if float(value).is_integer():
            return (_EXCEL_EPOCH + dt.timedelta(days=int(value))).date()
        return value
    if isinstance(value, str):
        text = value.strip()
        for parse in (dt.date.fromisoformat, lambda t: dt.datetime.fromisoformat(t).date()):
            try:
                return parse(text)
            except ValueError:
                continue
    return value


def _bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().upper() in ("TRUE", "FALSE"):
        return value.strip().upper() == "TRUE"
    return value


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and float(value).is_integer():
        return str(int(value))  # an ID or a code typed as digits, stored as a number
    if isinstance(value, dt.datetime | dt.date):  # a period label the application read as a date
        day = value.date() if isinstance(value, dt.datetime) else value
        return f"{day:%Y-%m}" if day.day == 1 else day.isoformat()
    return value


_CONVERTERS = {
    "number": _number,
    "integer": _integer,
    "date": _date,
    "bool": _bool,
    "text": _text,
}
