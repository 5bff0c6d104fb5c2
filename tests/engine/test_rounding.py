"""Excel's ROUND: half away from zero on the 15-significant-digit decimal form."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpixl.engine.rounding import excel_round


def reference_round(x: float, digits: int) -> float:
    """Decimal half-away-from-zero rounding of the value's 15-significant-digit form."""
    with localcontext() as ctx:
        ctx.prec = 500
        value = Decimal(f"{x:.15g}")
        return float(value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize(
    ("x", "digits", "expected"),
    [
        (2.675, 2, 2.68),
        (1.005, 2, 1.01),
        (-1.475, 2, -1.48),
        (12740.485, 2, 12740.49),
        (0.5, 0, 1.0),
        (-0.5, 0, -1.0),
        (2.5, 0, 3.0),
        (1234.5, -2, 1200.0),
        (1250.0, -2, 1300.0),
        (0.285, 2, 0.29),
        (1e-20, 2, 0.0),
        (123456789012.345, 2, 123456789012.35),
    ],
)
def test_known_half_cases(x: float, digits: int, expected: float) -> None:
    assert excel_round(x, digits) == expected


def test_non_finite_passes_through() -> None:
    assert math.isnan(excel_round(math.nan, 2))
    assert excel_round(math.inf, 2) == math.inf


@given(
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    st.integers(min_value=-6, max_value=8),
)
def test_equals_decimal_half_away_on_15_digits(x: float, digits: int) -> None:
    assert excel_round(x, digits) == reference_round(x, digits)


@given(st.integers(min_value=-(10**9), max_value=10**9), st.integers(min_value=0, max_value=4))
def test_exact_halves_round_away_from_zero(n: int, digits: int) -> None:
    # n.5 units of the last kept digit, written in decimal: always rounds away from zero.
    x = float(f"{n}.5e-{digits}")
    away = abs(n) + 1
    expected = float(f"{'-' if n < 0 else ''}{away}e-{digits}")
    assert excel_round(x, digits) == expected


def test_matches_values_excel_cached(corpus: Path) -> None:
    """The ROUND cells Excel saved in xlcalculator's test workbook."""
    path = corpus / "xlcalculator" / "tests_resources_ROUND.xlsx"
    formulas = openpyxl.load_workbook(path)
    cached = openpyxl.load_workbook(path, data_only=True)
    checked = 0
    for sheet in formulas.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                match = re.fullmatch(r"=ROUND\(\s*(-?[\d.]+)\s*,\s*(-?\d+)\s*\)", str(cell.value))
                if match is None:
                    continue
                excel_value = cached[sheet.title][cell.coordinate].value
                assert excel_round(float(match[1]), int(match[2])) == excel_value, cell.coordinate
                checked += 1
    assert checked >= 7


def test_large_values_round_their_15_digit_form() -> None:
    # 100000000000.0149 is 100000000000.015 to 15 significant digits: Excel rounds that up.
    assert excel_round(100000000000.0149, 2) == 100000000000.02


@given(
    st.lists(st.floats(min_value=-1e14, max_value=1e14, allow_nan=False), max_size=30),
    st.integers(min_value=-3, max_value=6),
)
def test_array_rounding_equals_scalar_rounding(values: list[float], digits: int) -> None:
    import numpy as np

    from kpixl.engine.rounding import round_array

    got = round_array(np.asarray(values, dtype=np.float64), digits).tolist()
    assert got == [excel_round(v, digits) for v in values]
