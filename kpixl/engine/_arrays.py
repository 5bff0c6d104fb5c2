"""Helpers that let one engine function serve a single value and an array of values."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
Numeric: TypeAlias = float | FloatArray
ArrayLike: TypeAlias = float | int | npt.ArrayLike


def as_floats(value: ArrayLike) -> FloatArray:
    """Return ``value`` as a float64 array (0-d for a single number)."""
    return np.asarray(value, dtype=np.float64)


def shaped(result: FloatArray, *inputs: ArrayLike) -> Numeric:
    """Return a Python float when every input was a single value, else the array."""
    if all(np.ndim(item) == 0 for item in inputs):
        return float(result)
    return result


def elementwise(func: Callable[[float], float], values: FloatArray) -> FloatArray:
    """Apply a scalar function to every element, keeping the shape."""
    flat = [func(float(x)) for x in values.ravel()]
    return np.asarray(flat, dtype=np.float64).reshape(values.shape)
