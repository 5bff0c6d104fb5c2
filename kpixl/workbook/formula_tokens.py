"""Formula identity by meaning: one normal form of a formula, from openpyxl's Tokenizer.

Spreadsheet applications rewrite the formulas they save without changing what they compute:
LibreOffice writes ``FALSE()`` for ``FALSE`` and lower-cases functions it does not know,
Gnumeric writes ``$E$10`` for ``$E$10:$E$10``, Excel adds ``_xlfn.`` prefixes and shares
filled-down formulas, Google Sheets wraps functions it owns in ``__xludf.DUMMYFUNCTION``. The
normal form is the formula's token stream with those differences taken out: function names and
``TRUE``/``FALSE`` with or without ``()``, case, whitespace, ``_xlfn.``/``_xlws.``/``_xludf.``
prefixes, single-cell ranges, quoting of sheet names and the spelling of numbers. ``$`` is kept:
an absolute reference made relative is a real change. SPEC §7.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError
from openpyxl.formula.translate import Translator, TranslatorError

#: An Excel number literal (the tokenizer's operand text of a number).
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")

NormalForm = tuple[str, ...]

_PREFIXES = ("_XLFN.", "_XLWS.", "_XLUDF.")
_LOGICALS = ("TRUE", "FALSE")
_GOOGLE_WRAPPER = "__XLUDF.DUMMYFUNCTION"
#: Template formulas are normalised once per process; foreign ones rarely repeat.
_CACHE_SIZE = 1 << 16


def same_formula(got: str, expected: str) -> bool:
    """Whether two formulas mean the same: equal text first, the normal forms only on a mismatch.

    Args:
        got: the formula a workbook holds, with or without its leading ``=``.
        expected: the template's formula.

    Returns:
        True when both compute the same thing from the same cells.
    """
    if got == expected or _same_but_case(got, expected):
        return True
    return normal_form(got) == normal_form(expected)


def _same_but_case(got: str, expected: str) -> bool:
    """Equal but for the case of names, checked without tokenizing (LibreOffice lower-cases
    the functions it does not know): outside string literals case is meaningless, inside not.
    """
    if "'" in got or "'" in expected:  # a quoted sheet name may hold a '"': tokenize instead
        return False
    ours, theirs = got.removeprefix("=").split('"'), expected.removeprefix("=").split('"')
    if len(ours) != len(theirs):
        return False
    return all(
        a == b if i % 2 else a.upper() == b.upper()
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
    )


@functools.lru_cache(maxsize=_CACHE_SIZE)
def normal_form(formula: str) -> NormalForm:
    """The formula as normalised tokens; a formula the tokenizer cannot read is its own text.

    Args:
        formula: the formula, with or without its leading ``=``.

    Returns:
        A tuple of tokens, each tagged with its kind (``F:SUM(``, ``R:KPIS!$E$10``, ``N:1.0``).
    """
    text = formula.strip()
    text = "=" + text.removeprefix("=")
    try:
        items = Tokenizer(text).items
    except (TokenizerError, IndexError, ValueError):
        return ("?", formula)
    inner = _google_inner(items)
    if inner is not None:
        return normal_form(inner)
    return tuple(_normalised(items))


def shared_formula(master: str, anchor: str, cell: str) -> str:
    """The formula of a cell that shares ``master`` (written at ``anchor``), as Excel expands it.

    Args:
        master: the shared formula's text at its anchor cell.
        anchor: the anchor cell (top-left of the shared range), e.g. ``B2``.
        cell: the dependent cell, e.g. ``B7``.

    Returns:
        The dependent's formula, relative references moved, with the master's leading ``=``
        (or none, as given).
    """
    bare = not master.startswith("=")
    try:
        translator = Translator("=" + master.removeprefix("="), origin=anchor)
        moved = str(translator.translate_formula(cell))
    except (TranslatorError, TokenizerError, ValueError):
        return master
    return moved[1:] if bare else moved


def constant_value(formula: str) -> tuple[bool, object]:
    """Whether a formula is a constant (``=FALSE()``, ``=3``, ``="text"``), and its value.

    Args:
        formula: the formula with its leading ``=``.

    Returns:
        (True, the value) for a constant formula, (False, None) for anything else.
    """
    form = normal_form(formula)
    signed = len(form) == 2 and form[0] in ("O:-", "O:+")
    sign = -1.0 if form[:1] == ("O:-",) else 1.0
    if signed:
        form = form[1:]
    if len(form) != 1:
        return False, None
    kind, _, value = form[0].partition(":")
    if kind == "N":
        number = sign * float(value)
        return True, int(number) if number.is_integer() else number
    if signed:
        return False, None
    if kind == "L":
        return True, value == "TRUE"
    if kind == "T":
        return True, value[1:-1].replace('""', '"')
    return False, None


def _google_inner(items: list[Token]) -> str | None:
    """The formula Google Sheets wrapped as ``IFERROR(__xludf.DUMMYFUNCTION("..."), cached)``."""
    values = [t for t in items if t.type != Token.WSPACE]
    start = 1 if values and values[0].value.upper() == "IFERROR(" else 0
    if len(values) < start + 3:
        return None
    call, text, close = values[start : start + 3]
    if (
        call.value.upper() != _GOOGLE_WRAPPER + "("
        or text.subtype != Token.TEXT
        or close.subtype != Token.CLOSE
    ):
        return None
    return str(text.value)[1:-1].replace('""', '"')


def _normalised(items: list[Token]) -> Iterator[str]:
    skip_close = False
    previous: Token | None = None
    for i, token in enumerate(items):
        if token.type == Token.WSPACE:
            # A space between two operands is Excel's intersection operator; elsewhere layout.
            following = items[i + 1] if i + 1 < len(items) else None
            if _ends_operand(previous) and _starts_operand(following):
                yield "O: "
            continue
        previous = token
        if skip_close:
            skip_close = False
            if token.type == Token.FUNC and token.subtype == Token.CLOSE:
                continue
        if token.type == Token.FUNC and token.subtype == Token.OPEN:
            name = _function_name(token.value[:-1])
            following = items[i + 1] if i + 1 < len(items) else None
            closes = following is not None and following.subtype == Token.CLOSE
            if name in _LOGICALS and closes:
                skip_close = True
                yield "L:" + name
                continue
            yield "F:" + name + "("
        elif token.type == Token.OPERAND:
            yield _operand(token)
        elif token.type in (Token.OP_PRE, Token.OP_IN, Token.OP_POST):
            yield "O:" + token.value
        else:
            yield token.value


def _function_name(name: str) -> str:
    name = name.upper()
    stripped = True
    while stripped:
        stripped = False
        for prefix in _PREFIXES:
            if name.startswith(prefix):
                name, stripped = name[len(prefix) :], True
    return name


def _operand(token: Token) -> str:
    value = str(token.value)
    if token.subtype == Token.NUMBER:
        if _NUMBER.fullmatch(value):
            return f"N:{float(value)!r}"
        return "X:" + value  # float() also reads "0_0", "inf" and "nan": Excel does not
    if token.subtype == Token.LOGICAL or value.upper() in _LOGICALS:  # "false" reads as a name
        return "L:" + value.upper()
    if token.subtype == Token.ERROR:
        return "E:" + value.upper()
    if token.subtype == Token.TEXT:
        return "T:" + value
    return "R:" + _reference(value)


def _reference(text: str) -> str:
    """A reference with sheet quoting, case and a single-cell ``X1:X1`` range normalised."""
    parts = [_split_sheet(part) for part in _split_outside_quotes(text, ":")]
    sheet = parts[0][0]
    refs = [ref.upper() for part_sheet, ref in parts if part_sheet in (None, sheet)]
    if len(refs) != len(parts):  # a 3-D reference across different sheets: keep it whole
        return text.upper()
    if len(refs) == 2 and refs[0] == refs[1]:
        refs = refs[:1]
    where = "" if sheet is None else sheet.upper() + "!"
    return where + ":".join(refs)


def _split_sheet(part: str) -> tuple[str | None, str]:
    if part.startswith("'"):
        end = part.rfind("'!")
        if end > 0:
            return part[1:end].replace("''", "'"), part[end + 2 :]
        return None, part
    sheet, bang, ref = part.rpartition("!")
    return (sheet, ref) if bang else (None, part)


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == "'":
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _ends_operand(token: Token | None) -> bool:
    return token is not None and (
        token.type == Token.OPERAND or token.subtype == Token.CLOSE or token.type == Token.OP_POST
    )


def _starts_operand(token: Token | None) -> bool:
    return token is not None and (token.type == Token.OPERAND or token.subtype == Token.OPEN)
