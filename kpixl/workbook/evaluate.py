"""Evaluate every formula of a workbook headlessly with the `formulas` library.

kpixl registers its UDFs in formulas' global function table (``install_functions``) and always
replaces formulas' ROUND / ROUNDUP / ROUNDDOWN (formulas 1.3.4 gives ROUND(1.005, 2) = 1.00,
Excel 1.01) and N (formulas returns N(TRUE) = TRUE, Excel 1) with Excel-exact versions.

Traps of formulas 1.3.4 (verified; details and how kpixl avoids each in docs/formulas-traps.md):

- ``--x`` parses as unary plus: ``--TRUE`` stays TRUE and ``SUMPRODUCT(--(r>1), r)`` is 0.
  Native workbooks write ``(r>1)*1`` or ``N(x)`` instead.
- Structured table references (``Table1[Amount]``) abort loading with ``FormulaError``;
  ``evaluate_workbook`` turns that into a ``WorkbookError``. Native workbooks use A1 ranges.
- A Python exception inside a custom function becomes ``#VALUE!``; to return a specific error
  a function returns its code as a string (``"#N/A"``, ``"#NUM! why"``); xlwings' Office.js
  custom functions turn such strings into Excel errors too.
- An unregistered function evaluates to ``#NAME?`` (as in Excel without the add-in), so
  functions must be installed before loading: formulas resolves names while parsing.
- Cells are named ``'[file.xlsx]SHEET NAME'!A1`` with the sheet name upper-cased; results are
  mapped back to the sheet names the user sees.
- Circular references leave cells without a value; ``evaluate_workbook`` raises a
  ``WorkbookError`` naming them instead of returning a silent gap.
- Sheet-scoped or hidden defined names and sheet names containing ``'`` give ``#REF!``;
  OFFSET/SUBTOTAL give ``#NAME?``; whole-column ranges (``B:B``) cost ~0.35 s each; an array
  expression as a cell's whole result yields its top-left value (Excel: implicit intersection).
  Native workbooks avoid all of these.
- A number cell is rounded to 15 decimals on loading (``round(val, 15)`` in
  ``ExcelModel.compile_cell``): a weight of 1/22 lost its last digits and a half-cent payout
  rounded the other way. Excel keeps the double the file holds; ``ExactModel`` does too.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import ROUND_DOWN, ROUND_UP, Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import formulas
import numpy as np
import schedula as sh
from formulas.cell import Ref
from formulas.errors import FormulaError, FoundError
from formulas.excel import BOOK
from formulas.functions import wrap_func, wrap_ufunc
from formulas.tokens.operand import Error, XlError

from kpixl.engine.rounding import excel_round
from kpixl.errors import Issue, WorkbookError
from kpixl.workbook.ooxml import column_letters
from kpixl.workbook.safety import check_package

CustomFunction = Callable[..., Any]
CODE_UNSUPPORTED_FORMULA = "KX830"  # formulas cannot parse it (structured table reference)
CODE_NOT_COMPUTED = "KX831"  # no value: circular reference
Value = float | str | bool | None

# Excel error literals formulas knows, e.g. "#N/A" -> its XlError token.
_ERRORS: Mapping[str, XlError] = Error.errors
_NAME = re.compile(r"^[A-Z_][A-Z0-9_.]*$")
# Files saved while a UDF was unknown to Excel may carry this prefix on the function name.
_UDF_PREFIX = "_XLUDF."
# formulas leaves the cells of a circular reference (and all that depend on them) out of the
# solution unless finish(circular=True), which costs more than the whole calculation.
_MISSING = object()
# Enough digits for any double at any sensible number of decimals.
_DECIMAL = Context(prec=400)


def install_functions(functions: Mapping[str, CustomFunction]) -> None:
    """Register custom functions in formulas' global function table, Excel-rounding included.

    Each function is called like an xlwings UDF: a single cell or literal arrives as a plain
    Python value (float, str, bool, None for an empty cell), a larger range as a list of row
    lists. An Excel error in any argument is returned without calling the function. The result
    may be a number, bool, str, a list (of row lists) for an array, or an Excel error given as
    its code string (``"#N/A"``, or the code followed by a space and a message).
    Registering the same name again replaces the earlier function.

    Args:
        functions: name (case-insensitive, e.g. ``KPIXL_ATTAINMENT``) to Python function.

    Returns:
        None.
    """
    table = formulas.get_functions()
    table.update(_excel_builtins())
    for name, func in functions.items():
        key = name.upper()
        if not _NAME.match(key):
            raise WorkbookError(f"cannot register {name!r}: not a valid Excel function name")
        table[key] = table[_UDF_PREFIX + key] = _adapt(func)


def evaluate_workbook(
    path: Path, functions: Mapping[str, CustomFunction] | None = None
) -> dict[str, object]:
    """Calculate every formula cell of a workbook with the `formulas` library.

    Args:
        path: the .xlsx file.
        functions: custom functions to install first (see ``install_functions``).

    Returns:
        ``{"Sheet!A1": value}`` for every formula cell, in sheet, row, column order; values are
        float, str, bool or None, Excel errors as their code (``"#VALUE!"``).
    """
    check_package(Path(path))  # an untrusted file: no zip bomb or entity reaches `formulas`
    install_functions(functions or {})
    model = load_model(path)
    solution = model.calculate()
    names = {name.upper(): name for name in _sheet_names(model)}
    order = {name: index for index, name in enumerate(names.values())}
    found: list[tuple[tuple[int, int, int], str, object]] = []
    missing: list[tuple[tuple[int, int, int], str]] = []
    for cell in _formula_cells(model):
        result = solution.get(cell.output, _MISSING)
        for sheet, row, column, value in _cell_values(cell, result, names):
            position = (order.get(sheet, len(order)), row, column)
            key = f"{sheet}!{column_letters(column)}{row}"
            if result is _MISSING:
                missing.append((position, key))
            found.append((position, key, value))
    if missing:
        raise WorkbookError.from_issues([_not_computed(path, key) for _, key in sorted(missing)])
    return {key: value for _, key, value in sorted(found)}


def _not_computed(path: Path, key: str) -> Issue:
    message = "has no value: a circular reference, or it depends on one"
    return Issue(f"{path.name}:{key}", CODE_NOT_COMPUTED, message)


class ExactModel(formulas.ExcelModel):  # type: ignore[misc]  # formulas ships no type hints
    """formulas' model, loading every number cell as the double the file holds."""

    def compile_cell(
        self, cell: Any, context: Any, references: Any, formula_references: Any
    ) -> Any:
        if cell.data_type == "n" and isinstance(cell.value, float):
            crd = formula_references.get(cell.coordinate, cell.coordinate)
            return self._compile_cell(crd, cell.value, context, True, references)
        return super().compile_cell(cell, context, references, formula_references)


def load_model(path: Path) -> Any:
    """The formulas model of the workbook at ``path``, every number as the file holds it."""
    try:
        return ExactModel().loads(str(path)).finish()
    except FormulaError as exc:
        formula = exc.args[-1] if exc.args else "?"
        issue = Issue(
            path.name,
            CODE_UNSUPPORTED_FORMULA,
            f"the formulas library cannot parse {formula!s}"
            " (structured table references like Table1[Column] are not supported)",
        )
        raise WorkbookError.from_issues([issue]) from exc


def _sheet_names(model: Any) -> list[str]:
    names: list[str] = []
    for book in model.books.values():
        names.extend(book[BOOK].sheetnames)
    return names


def _formula_cells(model: Any) -> Iterator[Any]:
    for cell in model.cells.values():
        if cell.func is not None and not isinstance(cell, Ref):
            yield cell


def _cell_values(
    cell: Any, result: Any, names: Mapping[str, str]
) -> Iterator[tuple[str, int, int, object]]:
    """Yield (sheet, row, column, value) for every cell a formula (or array formula) fills."""
    area = cell.range.ranges[0]
    sheet = names.get(area["sheet"], area["sheet"])
    values = np.asarray(getattr(result, "value", result), dtype=object)
    if values.ndim != 2:
        values = values.reshape(1, -1) if values.size else np.asarray([[None]], dtype=object)
    first_row, first_column = int(area["r1"]), int(area["n1"])
    for r in range(int(area["r2"]) - first_row + 1):
        for c in range(int(area["n2"]) - first_column + 1):
            inside = r < values.shape[0] and c < values.shape[1]
            value = _plain(values[r, c]) if inside else "#N/A"
            yield sheet, first_row + r, first_column + c, value


def _plain(value: Any) -> Value:
    """A formulas cell value as plain Python; Excel errors as their code string."""
    if isinstance(value, XlError):
        return str(value)
    if value is sh.EMPTY or value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.number):
        return float(value)
    return str(value)


def _adapt(func: CustomFunction) -> Any:
    """Wrap an xlwings-style function into formulas' calling convention."""

    def call(*args: Any) -> Any:
        error = _first_error(args)
        if error is not None:
            return error
        return _to_formulas(func(*(_argument(arg) for arg in args)))

    return wrap_func(functools.update_wrapper(call, func))


def _first_error(args: tuple[Any, ...]) -> XlError | None:
    for arg in args:
        for value in np.asarray(arg, dtype=object).ravel():
            if isinstance(value, XlError):
                return value
    return None


def _argument(arg: Any) -> Value | list[list[Value]]:
    """One argument as xlwings passes it: a scalar for one cell, else a list of row lists."""
    values = np.asarray(arg, dtype=object)
    if values.size == 1:
        return _plain(values.ravel()[0])
    rows = values if values.ndim == 2 else values.reshape(1, -1)
    return [[_plain(value) for value in row] for row in rows]


def _to_formulas(result: Any) -> Any:
    if isinstance(result, list | tuple | np.ndarray):
        rows = np.asarray(result, dtype=object)
        rows = rows if rows.ndim == 2 else rows.reshape(1, -1)
        return np.vectorize(_to_formulas_value, otypes=[object])(rows)
    return _to_formulas_value(result)


def _to_formulas_value(value: Any) -> Any:
    if isinstance(value, XlError):
        return value
    if value is None:
        return ""  # what xlwings writes for None
    if isinstance(value, str):
        code = value.split(maxsplit=1)[0] if value.startswith("#") else ""
        return _ERRORS.get(code, value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    number = float(value)
    return number if math.isfinite(number) else _ERRORS["#NUM!"]


@functools.cache
def _excel_builtins() -> dict[str, Any]:
    """formulas' ROUND, ROUNDUP, ROUNDDOWN and N replaced by Excel-exact versions."""
    return {
        "ROUND": wrap_ufunc(_round),
        "ROUNDUP": wrap_ufunc(functools.partial(_round_directed, rounding=ROUND_UP)),
        "ROUNDDOWN": wrap_ufunc(functools.partial(_round_directed, rounding=ROUND_DOWN)),
        "N": wrap_func(_n),
    }


def _round(x: float, digits: float) -> float:
    # + 0.0 turns Excel-invisible negative zeros (ROUND(-0.001, 2)) into 0.0.
    return excel_round(x, int(digits)) + 0.0


def _round_directed(x: float, digits: float, rounding: str) -> float:
    """Excel's ROUNDUP (away from zero) or ROUNDDOWN (toward zero) on the 15-digit form."""
    if x == 0 or not math.isfinite(x):
        return x
    quantum = Decimal(1).scaleb(-int(digits))
    try:
        rounded = Decimal(f"{x:.15g}").quantize(quantum, rounding=rounding, context=_DECIMAL)
    except InvalidOperation:
        return x  # more decimals asked for than the value has: nothing to round
    return float(rounded) + 0.0


def _n(value: Any) -> Any:
    """Excel's N: the first value of its argument as a number, TRUE as 1, text as 0."""
    first = np.asarray(value, dtype=object).ravel()[0]
    if isinstance(first, XlError):
        raise FoundError(err=first)
    if isinstance(first, bool | np.bool_):
        return float(first)
    if isinstance(first, str) or first is sh.EMPTY:
        return 0.0
    return float(first)
