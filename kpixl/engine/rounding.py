"""Excel's ROUND: half away from zero on the value's 15-significant-digit decimal form."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal

# ROUND_HALF_UP in the decimal module rounds half away from zero, which is what Excel does.
_CONTEXT = Context(prec=400, rounding=ROUND_HALF_UP)
_FAST_LIMIT = 2.0**50
# Within this distance of a half the binary value is too close to call without the decimal form.
_HALF_MARGIN = 1e-6


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
            if abs(abs(scaled) - whole - 0.5) > _HALF_MARGIN:
                # Far from a half, the binary value decides the same way as its decimal form,
                # and n / 10**d is correctly rounded to the double nearest to the decimal result.
                n = round(abs(scaled))
                return math.copysign(n / scale, x)
    return _decimal_round(x, digits)


def _decimal_round(x: float, digits: int) -> float:
    value = Decimal(f"{x:.15g}")
    quantum = Decimal(1).scaleb(-digits)
    if value.adjusted() < -digits - 1:
        return math.copysign(0.0, x) if digits >= 0 else 0.0
    return float(value.quantize(quantum, context=_CONTEXT))
