"""Attainment: how far a KPI's actual is toward its target (SPEC §5.3)."""

from __future__ import annotations

import numpy as np

from kpixl.engine._arrays import ArrayLike, Numeric, as_floats, shaped
from kpixl.model import Direction as Direction  # noqa: PLC0414  (re-exported: udfs -> engine)


def attainment(
    actual: ArrayLike,
    target: ArrayLike,
    direction: Direction = "higher",
    baseline: ArrayLike | None = None,
    attainment_cap: float | None = None,
) -> Numeric:
    """Attainment of an actual against its target; 1.0 is on target.

    Args:
        actual: the KPI's actual value(s).
        target: the effective target(s), ramp already applied.
        direction: ``higher`` (more is better) or ``lower`` (less is better).
        baseline: optional starting point; attainment then measures progress from it.
        attainment_cap: optional upper bound.

    Returns:
        max(a, 0), capped; a float for single values, an array otherwise. A zero target gives
        inf or NaN, which callers that face users turn into an error.
    """
    a_ = as_floats(actual)
    t = as_floats(target)
    with np.errstate(divide="ignore", invalid="ignore"):
        if direction == "higher":
            if baseline is None:
                a = a_ / t
            else:
                b = as_floats(baseline)
                a = (a_ - b) / (t - b)
        elif direction == "lower":
            if baseline is None:
                a = 2.0 - a_ / t
            else:
                b = as_floats(baseline)
                a = (b - a_) / (b - t)
        else:
            raise ValueError(f"direction must be 'higher' or 'lower', not {direction!r}")
    a = np.maximum(a, 0.0)
    if attainment_cap is not None:
        a = np.minimum(a, attainment_cap)
    inputs = (actual, target) if baseline is None else (actual, target, baseline)
    return shaped(a, *inputs)


def weighted_attainment(weights: ArrayLike, attainments: ArrayLike) -> Numeric:
    """W = Σ weight_k · a_k, summed in KPI order (SPEC §5.11).

    Args:
        weights: one weight per KPI.
        attainments: KPIs along the first axis; further axes (periods) are kept.

    Returns:
        W for one period (float) or per period (array).
    """
    w = as_floats(weights)
    a = as_floats(attainments)
    total = np.zeros(a.shape[1:], dtype=np.float64)
    for k in range(a.shape[0]):
        total = total + w[k] * a[k]
    return shaped(total, np.zeros(a.shape[1:]))
