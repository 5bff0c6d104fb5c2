"""LibreOffice really recalculates native formulas, and agrees with the formulas library."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from kpixl.workbook.evaluate import evaluate_workbook
from tests.libreoffice import INSTALL_HINT, recalc_with_libreoffice, soffice_path

pytestmark = pytest.mark.libreoffice

STALE = -999.0  # the deliberately wrong cached value of every numeric formula cell

# Quote!<cell>: (formula, value Excel gives). The Data sheet holds tiers in A1:B4 (from, rate),
# values in C1:C3 and weights in D1:D3; the defined name POOL is Quote!B1.
FORMULAS: dict[str, tuple[str, object]] = {
    "C1": ("=ROUND(1.005,2)", 1.01),
    "C2": ("=ROUND(2.675,2)", 2.68),
    "C3": ("=ROUND(-1.475,2)", -1.48),
    "C4": ("=ROUND(B2,2)", 1.01),
    "C5": ("=ROUND(0.285,2)", 0.29),
    "C6": ("=ROUNDUP(-3.14159,1)", -3.2),
    "C7": ("=ROUNDDOWN(-3.14159,1)", -3.1),
    "C8": ("=INDEX(Data!$B$1:$B$4,MATCH(1.1,Data!$A$1:$A$4,1))", 1.0),
    "C9": ("=IFERROR(INDEX(Data!$B$1:$B$4,MATCH(-1,Data!$A$1:$A$4,1)),0)", 0.0),
    "C10": ("=SUMPRODUCT((Data!$A$1:$A$4<=1.1)*1,Data!$B$1:$B$4)", 1.5),
    "C11": ("=N(TRUE)", 1.0),
    "C12": ("=N(Data!C1>1)", 0.0),
    "C13": ("=Data!C3*2", 6.0),
    "C14": ("=ROUND(POOL*0.5*C8,2)", 10500.0),
    "C15": ('=IF(C10>1,"high","low")', "high"),
    "C16": ("=ROUND(SUMPRODUCT(Data!C1:C3,Data!D1:D3)*POOL,2)", 35700.0),
    "C17": ("=MAX(0,MIN(1.5,Data!C3/Data!C2))", 1.5),
}


@pytest.fixture(scope="module")
def native_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A native-formula workbook whose cached values are all wrong."""
    path = tmp_path_factory.mktemp("native") / "native.xlsx"
    book = xlsxwriter.Workbook(str(path))
    quote = book.add_worksheet("Quote")
    data = book.add_worksheet("Data")
    for row, (start, rate, value, weight) in enumerate(
        [(0, 0, 1, 0.5), (0.8, 0.5, 2, 0.3), (1.0, 1.0, 3, 0.2), (1.2, 1.3, None, None)]
    ):
        data.write_row(row, 0, [start, rate])
        if value is not None:
            data.write_row(row, 2, [value, weight])
    quote.write("B1", 21000)
    quote.write("B2", 1.005)
    book.define_name("POOL", "=Quote!$B$1")
    for cell, (formula, expected) in FORMULAS.items():
        stale = "stale" if isinstance(expected, str) else STALE
        quote.write_formula(cell, formula, None, stale)
    book.close()
    return path


@pytest.fixture(scope="module")
def recalculated(native_workbook: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workbook after a forced LibreOffice recalculation."""
    if soffice_path() is None:
        pytest.fail(f"LibreOffice (soffice) is not installed: {INSTALL_HINT}")
    return recalc_with_libreoffice(native_workbook, tmp_path_factory.mktemp("recalculated"))


def test_cached_values_start_wrong(native_workbook: Path) -> None:
    cached = openpyxl.load_workbook(native_workbook, data_only=True)["Quote"]
    assert cached["C1"].value == STALE
    assert cached["C15"].value == "stale"


def test_libreoffice_recalculates_every_formula(recalculated: Path) -> None:
    sheet = openpyxl.load_workbook(recalculated, data_only=True)["Quote"]
    assert {cell: sheet[cell].value for cell in FORMULAS} == {
        cell: expected for cell, (_, expected) in FORMULAS.items()
    }


def test_formulas_library_agrees_with_libreoffice(
    native_workbook: Path, recalculated: Path
) -> None:
    sheet = openpyxl.load_workbook(recalculated, data_only=True)["Quote"]
    evaluated = evaluate_workbook(native_workbook)
    assert evaluated == {f"Quote!{cell}": sheet[cell].value for cell in FORMULAS}
