"""The kpixl engine as Excel functions (KPIXL_*), exposed through xlwings.

Each UDF converts its arguments, calls one engine function and converts the result back.
Ranges arrive as 2-D lists (``ndim=2``) so a column stays a column when the result spills.
Input Excel cannot use (a blank or text where a number belongs, an unknown mode, a zero
target) raises ``UdfInputError`` with a readable message; the host turns it into ``#VALUE!``
(Office.js shows the message on hover, the ``formulas`` library gives ``#VALUE!``). Classic
Windows COM would put a traceback into the cell, so there the UDF returns the text
``#VALUE! <message>`` instead.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, ParamSpec, TypeAlias, cast

import numpy as np
import numpy.typing as npt
import xlwings as xw

from kpixl.engine.attainment import Direction, attainment, weighted_attainment
from kpixl.engine.curves import CURVE_MODES, CurveMode, factor
from kpixl.engine.exit_clause import exit_status
from kpixl.engine.money import (
    OPS,
    Effect,
    Op,
    apply_caps,
    guardrail_multiplier,
    payout,
    prorated_base,
    round_money,
)
from kpixl.engine.pacing import actual_for, next_breakpoint, project, rest_needed, to_date_of
from kpixl.engine.pricing import list_figures
from kpixl.engine.review import halves, longest_streak
from kpixl.engine.scenarios import scenario_fee
from kpixl.errors import KpixlError

__all__ = [
    "UdfInputError",
    "kpixl_attainment",
    "kpixl_base",
    "kpixl_cap",
    "kpixl_exit",
    "kpixl_factor",
    "kpixl_guardrail",
    "kpixl_half",
    "kpixl_listprice",
    "kpixl_nextstep",
    "kpixl_pace",
    "kpixl_payout",
    "kpixl_rest",
    "kpixl_round",
    "kpixl_scenario",
    "kpixl_streak",
    "kpixl_todate",
    "kpixl_weighted",
]

Grid: TypeAlias = npt.NDArray[np.float64]
P = ParamSpec("P")

CATEGORY = "kpixl"
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # day 0 of Excel's 1900 date system (serials from 61 on)
_LAST_SERIAL = 2958466  # 10000-01-01
# The classic COM decorator lives in xlwings.udfs (Windows with pywin32, not on a server).
_ERRORS_AS_TEXT = getattr(xw.func, "__module__", "") == "xlwings.udfs"


class UdfInputError(KpixlError):
    """An argument a KPIXL_* function cannot use; Excel shows it as #VALUE!."""


def _excel_errors(func: Callable[P, Any]) -> Callable[P, Any]:
    """Turn bad input into UdfInputError (or COM error text) named after the Excel function."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        try:
            return func(*args, **kwargs)
        except ValueError as exc:  # UdfInputError, and the engine's domain errors
            message = f"{func.__name__.upper()}: {exc}"
            if _ERRORS_AS_TEXT:
                return f"#VALUE! {message}"
            raise UdfInputError(message) from exc

    return wrapper


# --- argument conversion ---------------------------------------------------------------


def _fail(message: str) -> NoReturn:
    raise UdfInputError(message)


def _is_blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and cell.strip() == "")


def _describe(cell: Any) -> str:
    if _is_blank(cell):
        return "a blank cell"
    if isinstance(cell, str):
        return f"the text {cell!r}"
    return f"{cell!r}"


def _rows(value: Any, name: str) -> list[list[Any]]:
    """A scalar, a 1-D list (one row) or a 2-D list/array as rectangular rows of cells."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list | tuple):
        return [[value]]
    if not value:
        return [[None]]
    if not any(isinstance(row, list | tuple) for row in value):
        return [list(value)]
    if not all(isinstance(row, list | tuple) and len(row) == len(value[0]) for row in value):
        _fail(f"{name} must be a rectangular range")
    return [list(row) for row in value]


def _where(rows: list[list[Any]], i: int, j: int) -> str:
    if len(rows) == 1 and len(rows[0]) == 1:
        return ""
    return f" (row {i + 1}, column {j + 1} of the range)"


def _number(cell: Any, name: str, where: str = "") -> float:
    if isinstance(cell, int | float | np.number) and not isinstance(cell, bool | np.bool_):
        number = float(cell)
        if math.isfinite(number):
            return number
    _fail(f"{name} must be a number{where}, not {_describe(cell)}")


def _numbers(value: Any, name: str) -> Grid:
    """Every cell of a range as a float; a blank or text cell is an error."""
    rows = _rows(value, name)
    cells = [
        [_number(c, name, _where(rows, i, j)) for j, c in enumerate(r)] for i, r in enumerate(rows)
    ]
    return np.asarray(cells, dtype=np.float64)


def _list(value: Any, name: str, blank: float | None = None) -> list[float]:
    """Every cell of a range, row by row, as a float; a blank cell is ``blank`` (or an error)."""
    rows = _rows(value, name)
    return [
        blank if blank is not None and _is_blank(c) else _number(c, name, _where(rows, i, j))
        for i, r in enumerate(rows)
        for j, c in enumerate(r)
    ]


def _optional_list(value: Any, name: str, blank: float | None = None) -> list[float] | None:
    if all(_is_blank(cell) for row in _rows(value, name) for cell in row):
        return None
    return _list(value, name, blank)


def _optional_numbers(value: Any, name: str) -> Grid | None:
    rows = _rows(value, name)
    if all(_is_blank(cell) for row in rows for cell in row):
        return None
    return _numbers(rows, name)


def _scalar(value: Any, name: str) -> float:
    rows = _rows(value, name)
    if len(rows) != 1 or len(rows[0]) != 1:
        _fail(f"{name} must be a single cell or number")
    return _number(rows[0][0], name)


def _optional_scalar(value: Any, name: str) -> float | None:
    rows = _rows(value, name)
    if len(rows) == 1 and len(rows[0]) == 1 and _is_blank(rows[0][0]):
        return None
    return _scalar(value, name)


def _integer(value: Any, name: str, default: int | None = None, minimum: int | None = None) -> int:
    number = _optional_scalar(value, name)
    if number is None:
        if default is None:
            _fail(f"{name} is required")
        return default
    if not number.is_integer() or (minimum is not None and number < minimum):
        at_least = "" if minimum is None else f" of at least {minimum}"
        _fail(f"{name} must be a whole number{at_least}, not {number:g}")
    return int(number)


def _choice(value: Any, name: str, choices: Sequence[str], default: str | None) -> str | None:
    rows = _rows(value, name)
    if len(rows) != 1 or len(rows[0]) != 1:
        _fail(f"{name} must be a single cell")
    cell = rows[0][0]
    if _is_blank(cell):
        return default
    text = str(cell).strip().lower()
    if text not in choices:
        _fail(f"{name} must be one of {', '.join(choices)}, not {_describe(cell)}")
    return text


def _tiers(value: Any) -> tuple[list[float], list[float]]:
    """A two-column from/rate range; blank rows are skipped."""
    rows = _rows(value, "tiers")
    if all(_is_blank(cell) for row in rows for cell in row):
        return [], []
    if len(rows[0]) != 2:
        _fail("tiers must be a two-column range: from, rate")
    froms: list[float] = []
    rates: list[float] = []
    for i, (start, rate) in enumerate(rows):
        if _is_blank(start) and _is_blank(rate):
            continue
        froms.append(_number(start, "tier from", _where(rows, i, 0)))
        rates.append(_number(rate, "tier rate", _where(rows, i, 1)))
    # Unsorted or negative tiers would silently pay the wrong amount (SPEC §3 rules).
    if any(later <= earlier for earlier, later in zip(froms, froms[1:], strict=False)):
        _fail("tier 'from' values must be ascending and unique")
    if froms[0] < 0 or min(rates) < 0:
        _fail("tier 'from' values and rates must not be negative")
    return froms, rates


def _same_shape(**grids: Grid | None) -> None:
    shapes = {name: grid.shape for name, grid in grids.items() if grid is not None}
    try:
        np.broadcast_shapes(*shapes.values())
    except ValueError:
        sizes = ", ".join(f"{name} {rows}x{cols}" for name, (rows, cols) in shapes.items())
        _fail(f"ranges must have the same shape or be single cells ({sizes})")


def _result(values: Any, *inputs: Grid | None, problem: str) -> Any:
    """One float when every range input was a single cell, else a 2-D list for spilling."""
    array = np.atleast_2d(np.asarray(values, dtype=np.float64))
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        where = "" if array.size == 1 else f" (row {bad[0][0] + 1}, column {bad[0][1] + 1})"
        _fail(f"{problem}{where}")
    if all(grid is None or grid.size == 1 for grid in inputs):
        return float(array[0, 0])
    return array.tolist()


# --- the UDFs ---------------------------------------------------------------------------


@xw.func(category=CATEGORY)
@xw.arg("actual", ndim=2, doc="The KPI's actual value, or a range of them.")
@xw.arg("target", ndim=2, doc="The effective target (ramp applied), or a range of them.")
@xw.arg("direction", doc='"higher" (default: more is better) or "lower".')
@xw.arg("baseline", ndim=2, doc="Optional starting point; attainment measures progress from it.")
@xw.arg("attainment_cap", doc="Optional upper bound on the attainment.")
@_excel_errors
def kpixl_attainment(
    actual: Any,
    target: Any,
    direction: Any = None,
    baseline: Any = None,
    attainment_cap: Any = None,
) -> Any:
    """Attainment of an actual against its target (1 = on target)."""
    a, t = _numbers(actual, "actual"), _numbers(target, "target")
    b = _optional_numbers(baseline, "baseline")
    way = cast(Direction, _choice(direction, "direction", ("higher", "lower"), "higher"))
    cap = _optional_scalar(attainment_cap, "attainment_cap")
    _same_shape(actual=a, target=t, baseline=b)
    value = attainment(a, t, way, b, cap)
    return _result(value, a, t, b, problem="target is 0 or equals the baseline")


@xw.func(category=CATEGORY)
@xw.arg("attainment", ndim=2, doc="Attainment value, or a range of them.")
@xw.arg("tiers", ndim=2, doc="Two-column range: tier start (from) and rate; blank rows ignored.")
@xw.arg("mode", doc='"stepped", "marginal" or "linear"; blank = no curve (factor = attainment).')
@xw.arg("threshold", doc="Optional: attainment below it gives factor 0.")
@xw.arg("factor_cap", doc="Optional upper bound on the factor.")
@_excel_errors
def kpixl_factor(
    attainment: Any,
    tiers: Any,
    mode: Any = None,
    threshold: Any = None,
    factor_cap: Any = None,
) -> Any:
    """Payout factor from attainment through a stepped, marginal or linear curve."""
    a = _numbers(attainment, "attainment")
    froms, rates = _tiers(tiers)
    curve = cast(CurveMode | None, _choice(mode, "mode", CURVE_MODES, None))
    gate = _optional_scalar(threshold, "threshold")
    cap = _optional_scalar(factor_cap, "factor_cap")
    value = factor(a, froms, rates, curve, gate, cap)
    return _result(value, a, problem="factor is not a finite number")


@xw.func(category=CATEGORY)
@xw.arg("pool", ndim=2, doc="Bonus pool per period at factor 1.")
@xw.arg("weight", ndim=2, doc="The KPI's weight (weights sum to 1).")
@xw.arg("factor", ndim=2, doc="The KPI's factor from KPIXL_FACTOR.")
@xw.arg("decimals", doc="Currency decimals (default 2).")
@_excel_errors
def kpixl_payout(pool: Any, weight: Any, factor: Any, decimals: Any = None) -> Any:
    """A KPI's payout: ROUND(pool * weight * factor, decimals)."""
    p, w = _numbers(pool, "pool"), _numbers(weight, "weight")
    f = _numbers(factor, "factor")
    d = _integer(decimals, "decimals", default=2)
    _same_shape(pool=p, weight=w, factor=f)
    return _result(payout(p, w, f, d), p, w, f, problem="payout is not a finite number")


@xw.func(category=CATEGORY)
@xw.arg("value", ndim=2, doc="The guardrail metric's value, or a range of them.")
@xw.arg("op", doc='Comparison that must hold: ">=", ">", "<=" or "<".')
@xw.arg("bound", doc="The bound the value is compared with.")
@xw.arg("effect", doc='"gate" (default: a breach pays no bonus) or "multiplier".')
@xw.arg("multiplier", doc="What a breach multiplies the bonus by when effect is multiplier.")
@_excel_errors
def kpixl_guardrail(
    value: Any, op: Any, bound: Any, effect: Any = None, multiplier: Any = None
) -> Any:
    """Bonus multiplier of one guardrail: 1 when it holds, else 0 or its multiplier."""
    v = _numbers(value, "value")
    comparison = cast(Op, _choice(op, "op", OPS, None) or _fail("op is required"))
    limit = _scalar(bound, "bound")
    kind = cast(Effect, _choice(effect, "effect", ("gate", "multiplier"), "gate"))
    breach = _optional_scalar(multiplier, "multiplier")
    result = guardrail_multiplier(v, comparison, limit, kind, 0.0 if breach is None else breach)
    return _result(result, v, problem="multiplier is not a finite number")


@xw.func(category=CATEGORY)
@xw.arg("amount", doc="The bonus before caps.")
@xw.arg("period_cap", doc="Optional: the most one period may pay.")
@xw.arg("paid_before", doc="Bonus already paid in earlier periods (default 0).")
@xw.arg("contract_cap", doc="Optional: the most the whole contract may pay.")
@xw.arg("decimals", doc="Currency decimals (default 2).")
@_excel_errors
def kpixl_cap(
    amount: Any,
    period_cap: Any = None,
    paid_before: Any = None,
    contract_cap: Any = None,
    decimals: Any = None,
) -> Any:
    """The bonus after the period cap and what the contract cap still allows."""
    paid = _optional_scalar(paid_before, "paid_before")
    return apply_caps(
        _scalar(amount, "amount"),
        _optional_scalar(period_cap, "period_cap"),
        0.0 if paid is None else paid,
        _optional_scalar(contract_cap, "contract_cap"),
        _integer(decimals, "decimals", default=2),
    )


@xw.func(category=CATEGORY)
@xw.arg("x", ndim=2, doc="The value, or a range of values, to round.")
@xw.arg("decimals", doc="Decimals to keep (default 0; negative rounds to tens, hundreds).")
@_excel_errors
def kpixl_round(x: Any, decimals: Any = None) -> Any:
    """Excel-exact ROUND: half away from zero on the 15-digit decimal value."""
    values = _numbers(x, "x")
    digits = _integer(decimals, "decimals", default=0)
    return _result(round_money(values, digits), values, problem="value is not a finite number")


@xw.func(category=CATEGORY)
@xw.arg("weighted_attainments", ndim=2, doc="W per period, in period order (a row or a column).")
@xw.arg("threshold", doc="A period is a miss when W is below it.")
@xw.arg("consecutive", doc="Misses in a row that make the exit clause eligible.")
@_excel_errors
def kpixl_exit(weighted_attainments: Any, threshold: Any, consecutive: Any) -> Any:
    """TRUE where the client may exit: the last N periods all missed."""
    rows = _rows(weighted_attainments, "weighted_attainments")
    if len(rows) > 1 and len(rows[0]) > 1:
        _fail("weighted_attainments must be a single row or column")
    # A blank W is a period not settled yet: not a miss, and it breaks a streak.
    values = [
        math.nan if _is_blank(c) else _number(c, "weighted_attainments", _where(rows, i, j))
        for i, r in enumerate(rows)
        for j, c in enumerate(r)
    ]
    limit = _scalar(threshold, "threshold")
    _, eligible = exit_status(values, limit, _integer(consecutive, "consecutive", minimum=1))
    if len(eligible) == 1:
        return eligible[0]
    return [[flag] for flag in eligible] if len(rows) > 1 else [eligible]


@xw.func(category=CATEGORY)
@xw.arg("weights", ndim=2, doc="One weight per KPI (a row or a column).")
@xw.arg("attainments", ndim=2, doc="Attainment per KPI; more periods along the other axis.")
@_excel_errors
def kpixl_weighted(weights: Any, attainments: Any) -> Any:
    """Weighted attainment W = sum of weight * attainment over the KPIs."""
    w, a = _numbers(weights, "weights"), _numbers(attainments, "attainments")
    if min(w.shape) != 1:
        _fail("weights must be a single row or column")
    k = w.size
    if min(a.shape) == 1 and a.size == k:
        return _result(weighted_attainment(w.ravel(), a.ravel()), None, problem="W is not finite")
    if w.shape[0] == 1 and a.shape[1] == k:  # KPIs across, periods down
        column = np.asarray(weighted_attainment(w.ravel(), a.T)).reshape(-1, 1)
        return _result(column, a, problem="W is not finite")
    if w.shape[1] == 1 and a.shape[0] == k:  # KPIs down, periods across
        row = np.asarray(weighted_attainment(w.ravel(), a)).reshape(1, -1)
        return _result(row, a, problem="W is not finite")
    return _fail(f"attainments must have one value per weight ({k} weights, range {a.shape})")


@xw.func(category=CATEGORY)
@xw.arg("base", doc="The base fee per period.")
@xw.arg("person_days", doc="Optional: person-days delivered in the period.")
@xw.arg("required", doc="Optional: person-days the contract requires.")
@xw.arg("decimals", doc="Currency decimals (default 2).")
@_excel_errors
def kpixl_base(
    base: Any, person_days: Any = None, required: Any = None, decimals: Any = None
) -> Any:
    """The base fee, prorated when fewer person-days than required were delivered."""
    days = _optional_scalar(person_days, "person_days")
    needed = _optional_scalar(required, "required")
    if needed is not None and needed <= 0:
        _fail(f"required must be greater than 0, not {needed:g}")
    if days is not None and days < 0:
        _fail(f"person_days must not be negative, not {days:g}")
    d = _integer(decimals, "decimals", default=2)
    return prorated_base(_scalar(base, "base"), days, needed, d)


@xw.func(category=CATEGORY)
@xw.arg("role_rates", ndim=2, doc="Monthly cost per head of each team role (a RateCard range).")
@xw.arg("headcount", ndim=2, doc="Heads per role, in the order of role_rates; blank = 0.")
@xw.arg("platform_factor", doc="The platform's factor.")
@xw.arg("markets", doc="Number of markets (whole, at least 1).")
@xw.arg("market_surcharge", doc="The factor each market beyond the first adds.")
@xw.arg("category_factor", doc="The category class's factor.")
@xw.arg("integration_fee", doc="Monthly data-integration fee (default 0).")
@xw.arg("add_on_rates", ndim=2, doc="Optional: monthly fee of each add-on service.")
@xw.arg("add_on_flags", ndim=2, doc="Per add-on rate: 1 when taken, 0 or blank when not.")
@xw.arg("languages", doc="Number of extra languages (default 0).")
@xw.arg("language_fee", doc="Monthly fee per extra language (default 0).")
@xw.arg("term_discount", doc="The term tier's discount, 0 to below 1 (default 0).")
@xw.arg("months", doc="Months per settlement period: 1 (default) or 3 for a quarter.")
@xw.arg("decimals", doc="Currency decimals (default 2).")
@_excel_errors
def kpixl_listprice(
    role_rates: Any,
    headcount: Any,
    platform_factor: Any,
    markets: Any,
    market_surcharge: Any,
    category_factor: Any,
    integration_fee: Any = None,
    add_on_rates: Any = None,
    add_on_flags: Any = None,
    languages: Any = None,
    language_fee: Any = None,
    term_discount: Any = None,
    months: Any = None,
    decimals: Any = None,
) -> Any:
    """List price per settlement period from rate-card figures and the quote's inputs."""
    rates = _optional_list(add_on_rates, "add_on_rates") or []
    flags = _optional_list(add_on_flags, "add_on_flags", blank=0.0)
    figures = list_figures(
        _list(role_rates, "role_rates"),
        _list(headcount, "headcount", blank=0.0),
        _scalar(platform_factor, "platform_factor"),
        _integer(markets, "markets", minimum=1),
        _scalar(market_surcharge, "market_surcharge"),
        _scalar(category_factor, "category_factor"),
        _optional_scalar(integration_fee, "integration_fee") or 0.0,
        rates,
        [0.0] * len(rates) if flags is None else flags,
        _integer(languages, "languages", default=0, minimum=0),
        _optional_scalar(language_fee, "language_fee") or 0.0,
        _optional_scalar(term_discount, "term_discount") or 0.0,
        _integer(months, "months", default=1, minimum=1),
        _integer(decimals, "decimals", default=2),
    )
    return _result(figures.list, None, problem="the list price is not a finite number")


@xw.func(category=CATEGORY)
@xw.arg("base", doc="The base fee per period.")
@xw.arg("payouts", ndim=2, doc="The KPI payouts at the level: a range, or their sum.")
@xw.arg("period_cap", doc="Optional: the most one period may pay.")
@xw.arg("contract_cap", doc="Optional: the most the whole contract may pay.")
@xw.arg("decimals", doc="Currency decimals (default 2).")
@xw.arg("what", doc='"total" (default: base + bonus), "bonus" or "base".')
@_excel_errors
def kpixl_scenario(
    base: Any,
    payouts: Any,
    period_cap: Any = None,
    contract_cap: Any = None,
    decimals: Any = None,
    what: Any = None,
) -> Any:
    """Fee of a scenario period (guardrails holding) from its KPI payouts, after the caps."""
    figure = _choice(what, "what", ("total", "bonus", "base"), "total")
    fee = scenario_fee(
        _scalar(base, "base"),
        _list(payouts, "payouts"),
        _optional_scalar(period_cap, "period_cap"),
        _optional_scalar(contract_cap, "contract_cap"),
        _integer(decimals, "decimals", default=2),
    )
    return _result(getattr(fee, str(figure)), None, problem=f"the {figure} is not a finite number")


# --- pacing the open period (SPEC §9) ---------------------------------------------------


def _blank_if_none(value: float | None) -> float | str:
    return "" if value is None else value


@xw.func(category=CATEGORY)
@xw.arg("to_date", doc="The column's to-date value (sum, mean or last row of the days so far).")
@xw.arg("kind", doc='"sum" (scaled to the whole period), "mean" or "last" (kept as they are).')
@xw.arg("days_in_period", doc="Calendar days of the period (N).")
@xw.arg("days_elapsed", doc="Days from the period's first day to the as-of date (e).")
@_excel_errors
def kpixl_pace(to_date: Any, kind: Any, days_in_period: Any, days_elapsed: Any) -> Any:
    """A column's projected period value: to-date · N / e for sum columns, else the to-date."""
    return project(
        _scalar(to_date, "to_date"),
        _choice(kind, "kind", ("sum", "mean", "last"), None) or _fail("kind is required"),
        _integer(days_in_period, "days_in_period", minimum=1),
        _integer(days_elapsed, "days_elapsed", minimum=1),
    )


@xw.func(category=CATEGORY)
@xw.arg("attainment", doc="The KPI's projected attainment.")
@xw.arg("breakpoints", ndim=2, doc="Threshold, tier starts and 1.0 (blank cells ignored).")
@xw.arg("direction", doc='"higher" or "lower" (with target: return the actual instead).')
@xw.arg("target", doc="Optional: the period's target; then the actual A* is returned.")
@xw.arg("baseline", doc="Optional: the period's baseline.")
@_excel_errors
def kpixl_nextstep(
    attainment: Any,
    breakpoints: Any,
    direction: Any = None,
    target: Any = None,
    baseline: Any = None,
) -> Any:
    """The next breakpoint above the attainment, or with a target the actual that reaches it."""
    points = [
        _number(cell, "breakpoints")
        for row in _rows(breakpoints, "breakpoints")
        for cell in row
        if not _is_blank(cell)
    ]
    b = next_breakpoint(_scalar(attainment, "attainment"), points)
    goal = _optional_scalar(target, "target")
    if b is None or goal is None:
        return _blank_if_none(b)
    way = _choice(direction, "direction", ("higher", "lower"), "higher") or "higher"
    return actual_for(way, b, goal, _optional_scalar(baseline, "baseline"))


@xw.func(category=CATEGORY)
@xw.arg("shape", doc='"sum", "mean", "last" (the column\'s kind) or "ratio".')
@xw.arg("actual", doc="A*, the actual that reaches the next breakpoint.")
@xw.arg("to_date", doc="The to-date value (a ratio: the numerator's to-date sum).")
@xw.arg("days_in_period", doc="Calendar days of the period (N).")
@xw.arg("days_elapsed", doc="Days elapsed (e).")
@xw.arg("denominator", doc="A ratio: the denominator's to-date sum.")
@xw.arg("per_day", doc="TRUE: the amount per remaining day (sum KPIs) instead.")
@_excel_errors
def kpixl_rest(
    shape: Any,
    actual: Any,
    to_date: Any,
    days_in_period: Any,
    days_elapsed: Any,
    denominator: Any = None,
    per_day: Any = None,
) -> Any:
    """What the rest of the period needs (blank on the last day, or per day when not a sum KPI)."""
    rest, daily = rest_needed(
        _choice(shape, "shape", ("sum", "mean", "last", "ratio"), None)
        or _fail("shape is required"),
        _scalar(actual, "actual"),
        _scalar(to_date, "to_date"),
        _integer(days_in_period, "days_in_period", minimum=1),
        _integer(days_elapsed, "days_elapsed", minimum=1),
        _optional_scalar(denominator, "denominator"),
    )
    return _blank_if_none(daily if per_day is True or per_day == 1 else rest)


# --- the review for renewal ----------------------------------------------------------------


@xw.func(category=CATEGORY)
@xw.arg("attainments", ndim=2, doc="The KPI's attainment per period (blank: not settled).")
@xw.arg("which", doc='"first" or "second": the half whose mean is returned.')
@_excel_errors
def kpixl_half(attainments: Any, which: Any) -> Any:
    """Mean attainment of the first or last n // 2 settled periods (blank under two periods)."""
    half = _choice(which, "which", ("first", "second"), None) or _fail("which is required")
    values = tuple(
        _number(cell, "attainments")
        for row in _rows(attainments, "attainments")
        for cell in row
        if not _is_blank(cell)
    )
    first, second = halves(values)
    return _blank_if_none(first if half == "first" else second)


@xw.func(category=CATEGORY)
@xw.arg("misses", ndim=2, doc="Each period's miss flag (1 / TRUE: missed; blank: not settled).")
@_excel_errors
def kpixl_streak(misses: Any) -> Any:
    """The longest run of missed periods in a row; a period not settled breaks a run."""
    flags = [
        None
        if _is_blank(cell)
        else cell
        if isinstance(cell, bool)
        else bool(_number(cell, "misses"))
        for row in _rows(misses, "misses")
        for cell in row
    ]
    return float(longest_streak(flags))


def _day(cell: Any, name: str) -> dt.date | None:
    """A date cell (a datetime, or the serial number Excel stores) as a day; blank: None."""
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    if _is_blank(cell):
        return None
    serial = _number(cell, name)
    if not 1 <= serial < _LAST_SERIAL:
        _fail(f"{name} must hold dates, not {serial:g}")
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def _figure(cell: Any) -> float | None:
    if isinstance(cell, int | float | np.number) and not isinstance(cell, bool | np.bool_):
        return float(cell)
    return None


@xw.func(category=CATEGORY)
@xw.arg("kind", doc='"sum", "mean" or "last": how the column rolls up over the days.')
@xw.arg("dates", ndim=2, doc="The pasted days (one column; blank rows are skipped).")
@xw.arg("values", ndim=2, doc="The column's value on each day (blank: no figure that day).")
@xw.arg("first_day", doc="The period's first day.")
@xw.arg("as_of", doc="The as-of date D.")
@_excel_errors
def kpixl_todate(kind: Any, dates: Any, values: Any, first_day: Any, as_of: Any) -> Any:
    """A column's to-date value from daily rows: sum, mean or last of the days up to D."""
    days, figures = _rows(dates, "dates"), _rows(values, "values")
    if len(days) != len(figures):
        _fail("dates and values must have as many rows")
    # A blank or text value is a day without that figure, as SUMIFS reads it in native mode.
    pairs = [(_day(d[0], "dates"), _figure(v[0])) for d, v in zip(days, figures, strict=True)]
    kept = [(day, value) for day, value in pairs if day is not None]
    first, last = _day(first_day, "first_day"), _day(as_of, "as_of")
    if first is None or last is None:
        _fail("first_day and as_of are required")
    result = to_date_of(
        _choice(kind, "kind", ("sum", "mean", "last"), None) or _fail("kind is required"),
        [day for day, _ in kept],
        [value for _, value in kept],
        first,
        last,
    )
    return _blank_if_none(result)
