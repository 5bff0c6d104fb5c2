"""Money arithmetic: payouts, guardrail multipliers and caps (SPEC §5.5-5.7, 5.9)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import get_args

import numpy as np

from kpixl.engine._arrays import ArrayLike, Numeric, as_floats, shaped
from kpixl.engine.rounding import excel_round, round_array
from kpixl.model import Effect as Effect  # noqa: PLC0414  (re-exported: udfs -> engine)
from kpixl.model import Op as Op  # noqa: PLC0414

OPS: tuple[Op, ...] = get_args(Op)


def round_money(amount: ArrayLike, decimals: int = 2) -> Numeric:
    """Excel-exact ROUND of one amount or of every amount in an array.

    Args:
        amount: value(s) to round.
        decimals: the currency's decimals.

    Returns:
        The rounded value(s).
    """
    values = as_floats(amount)
    if values.ndim == 0:
        return excel_round(float(values), decimals)
    return round_array(values, decimals)


def contract_total(amounts: Iterable[float], decimals: int = 2) -> float:
    """A contract total (SPEC §5.10): ROUND of the exact sum of the period amounts.

    The one rounding of totals: settle(), the workbook's cached totals and batch summaries.
    """
    return excel_round(math.fsum(amounts), decimals)


def payout(pool: ArrayLike, weight: ArrayLike, factor: ArrayLike, decimals: int = 2) -> Numeric:
    """A KPI's payout: ROUND(pool · weight · factor, d).

    Args:
        pool: the bonus pool at factor 1.0.
        weight: the KPI's weight.
        factor: the KPI's factor from its curve.
        decimals: the currency's decimals.

    Returns:
        The payout, rounded to the currency.
    """
    raw = as_floats(pool) * as_floats(weight) * as_floats(factor)
    return shaped(np.asarray(round_money(raw, decimals)), pool, weight, factor)


def guardrail_holds(value: ArrayLike, op: Op, bound: float) -> Numeric:
    """1.0 where ``value op bound`` holds, else 0.0."""
    v = as_floats(value)
    if op == ">=":
        held = v >= bound
    elif op == ">":
        held = v > bound
    elif op == "<=":
        held = v <= bound
    elif op == "<":
        held = v < bound
    else:
        raise ValueError(f"operator must be one of {', '.join(OPS)}, not {op!r}")
    return shaped(held.astype(np.float64), value)


def guardrail_multiplier(
    value: ArrayLike, op: Op, bound: float, effect: Effect = "gate", multiplier: float = 0.0
) -> Numeric:
    """The factor one guardrail applies to the bonus: 1 when it holds, else 0 or its multiplier.

    Args:
        value: the guardrail metric's value(s).
        op: comparison that must hold (``>=``, ``>``, ``<=``, ``<``).
        bound: the bound compared against.
        effect: ``gate`` (a breach pays no bonus) or ``multiplier``.
        multiplier: what a breach multiplies the bonus by when effect is ``multiplier``.

    Returns:
        1.0, 0.0 or the multiplier, per value.
    """
    if effect not in ("gate", "multiplier"):
        raise ValueError(f"effect must be 'gate' or 'multiplier', not {effect!r}")
    breached = 0.0 if effect == "gate" else float(multiplier)
    held = as_floats(guardrail_holds(value, op, bound))
    return shaped(np.where(held == 1.0, 1.0, breached), value)


def apply_caps(
    amount: float,
    period_cap: float | None = None,
    paid_before: float = 0.0,
    contract_cap: float | None = None,
    decimals: int = 2,
) -> float:
    """Cap a bonus per period, then by what the contract cap still allows (SPEC §5.7).

    Args:
        amount: the bonus before caps.
        period_cap: the most one period may pay.
        paid_before: bonus already paid in earlier periods.
        contract_cap: the most the whole contract may pay.
        decimals: the currency's decimals.

    Returns:
        The capped bonus, rounded to the currency.
    """
    capped = amount if period_cap is None else min(amount, period_cap)
    if contract_cap is not None:
        remaining = excel_round(max(0.0, contract_cap - paid_before), decimals)
        capped = min(capped, remaining)
    return excel_round(capped, decimals)


def prorated_base(
    base: float,
    person_days: ArrayLike | None = None,
    required: float | None = None,
    decimals: int = 2,
) -> Numeric:
    """The base fee, prorated when fewer person-days than required were delivered (SPEC §5.9).

    Args:
        base: the base fee per period.
        person_days: person-days delivered, for one period or an array of periods.
        required: person-days the contract requires.
        decimals: the currency's decimals.

    Returns:
        ROUND(base · min(1, delivered / required), d), or the base when there is no minimum.
    """
    if required is None or person_days is None:
        return excel_round(base, decimals)
    share = np.minimum(1.0, as_floats(person_days) / required)
    return shaped(np.asarray(round_money(base * share, decimals)), person_days)
