"""Payout curves: attainment to factor (SPEC §5.4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

import numpy as np

from kpixl.engine._arrays import ArrayLike, FloatArray, Numeric, as_floats, shaped
from kpixl.model import CurveMode as CurveMode  # noqa: PLC0414  (re-exported: udfs -> engine)

CURVE_MODES: tuple[CurveMode, ...] = get_args(CurveMode)


def factor(
    attainment: ArrayLike,
    froms: Sequence[float] | FloatArray = (),
    rates: Sequence[float] | FloatArray = (),
    mode: CurveMode | None = None,
    threshold: float | None = None,
    factor_cap: float | None = None,
) -> Numeric:
    """Turn attainment into a payout factor.

    Args:
        attainment: attainment value(s), never negative.
        froms: tier starts, ascending (the model guarantees order).
        rates: one rate per tier.
        mode: ``stepped``, ``marginal`` or ``linear``; None (or linear without tiers) is f = a.
        threshold: attainment below it pays nothing.
        factor_cap: optional upper bound on the factor.

    Returns:
        The factor(s): a float for a single value, an array otherwise.
    """
    a = as_floats(attainment)
    x = as_floats(froms)
    r = as_floats(rates)
    if x.shape != r.shape:
        raise ValueError("froms and rates must have the same length")
    if mode is None or (mode == "linear" and x.size == 0):
        f = a.copy()
    elif mode == "stepped":
        f = _stepped(a, x, r)
    elif mode == "marginal":
        f = _marginal(a, x, r)
    elif mode == "linear":
        f = _linear(a, x, r)
    else:
        raise ValueError(f"curve mode must be one of {', '.join(CURVE_MODES)}, not {mode!r}")
    if threshold is not None:
        f = np.where(a < threshold, 0.0, f)
    if factor_cap is not None:
        f = np.minimum(f, factor_cap)
    return shaped(np.asarray(f, dtype=np.float64), attainment)


def _stepped(a: FloatArray, x: FloatArray, r: FloatArray) -> FloatArray:
    if x.size == 0:
        raise ValueError("a stepped curve needs at least one tier")
    index = np.searchsorted(x, a, side="right") - 1
    picked = r[np.clip(index, 0, x.size - 1)]
    return np.where(index >= 0, picked, 0.0)


def _marginal(a: FloatArray, x: FloatArray, r: FloatArray) -> FloatArray:
    if x.size == 0:
        raise ValueError("a marginal curve needs at least one tier")
    f = np.zeros_like(a)
    for i in range(x.size):
        upper = x[i + 1] if i + 1 < x.size else np.inf
        f = f + r[i] * np.maximum(0.0, np.minimum(a, upper) - x[i])
    return f


def _linear(a: FloatArray, x: FloatArray, r: FloatArray) -> FloatArray:
    if x.size < 2:
        raise ValueError("a linear curve with tiers needs at least two points")
    f = np.where(a < x[0], 0.0, r[-1])
    for i in range(x.size - 1):
        inside = (a >= x[i]) & (a < x[i + 1])
        # Same operation order as the native workbook formula: r_i + (a - x_i) * Δr / Δx.
        value = r[i] + (a - x[i]) * (r[i + 1] - r[i]) / (x[i + 1] - x[i])
        f = np.where(inside, value, f)
    return f
