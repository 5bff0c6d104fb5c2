"""Excel's ROUND: half away from zero on the value's 15-significant-digit decimal form."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal

import numpy as np
import numpy.typing as npt

# ROUND_HALF_UP in the decimal module rounds half away from zero, which is what Excel does.
_CONTEXT = Context(prec=400, rounding=ROUND_HALF_UP)
_FAST_LIMIT = 2.0**50
# Within this distance of a half (in units of the last kept digit) the binary value is too close
# to call without the decimal form. The 15-digit form moves a value by at most 5e-15 of itself,
# so the margin grows with the value: see _margin.
_HALF_MARGIN = 1e-6
_RELATIVE_MARGIN = 1e-14


def excel_round(x: float, digits: int = 0) -> float:
    """Round like Excel's ROUND(x, digits).

    Args:
        x: the value; NaN and infinities pass through unchanged.
        digits: decimals to keep; negative rounds to tens, hundreds, ...

    Returns:
        The double nearest to the decimal result, as Excel stores it.
    """
    if x == 0 or not math.isfinite(x):
        return x
    digits = int(digits)
    if 0 <= digits <= 15:
        scale = 10.0**digits
        scaled = x * scale
        if abs(scaled) < _FAST_LIMIT:
            whole = math.floor(abs(scaled))
            margin = max(_HALF_MARGIN, abs(scaled) * _RELATIVE_MARGIN)
            if abs(abs(scaled) - whole - 0.5) > margin:
                # Far from a half, the binary value decides the same way as its decimal form,
                # and n / 10**d is correctly rounded to the double nearest to the decimal result.
                n = round(abs(scaled))
                # + 0.0 turns a negative zero into the zero Excel shows.
                return math.copysign(n / scale, x) + 0.0
    return _decimal_round(x, digits)


def _decimal_round(x: float, digits: int) -> float:
    value = Decimal(f"{x:.15g}")
    quantum = Decimal(1).scaleb(-digits)
    if value.adjusted() < -digits - 1:
        return 0.0
    return float(value.quantize(quantum, context=_CONTEXT)) + 0.0


def round_array(values: npt.NDArray[np.float64], digits: int) -> npt.NDArray[np.float64]:
    """Excel's ROUND on every element of an array, vectorised where the answer is clear.

    Args:
        values: the values.
        digits: decimals to keep.

    Returns:
        A new array of the rounded values, elementwise equal to :func:`excel_round`.
    """
    result = np.empty_like(values)
    unclear = np.ones(values.shape, dtype=bool)
    if 0 <= digits <= 15:
        scale = 10.0**digits
        scaled = np.abs(values) * scale
        with np.errstate(invalid="ignore"):
            margin = np.maximum(_HALF_MARGIN, scaled * _RELATIVE_MARGIN)
            clear = (scaled < _FAST_LIMIT) & (np.abs(scaled - np.floor(scaled) - 0.5) > margin)
        # Away from halves rint's tie rule never applies, and n / 10**d is correctly rounded.
        result[clear] = np.copysign(np.rint(scaled[clear]) / scale, values[clear])
        unclear = ~clear
    for index in zip(*np.nonzero(unclear), strict=True):
        result[index] = excel_round(float(values[index]), digits)
    return result + 0.0
