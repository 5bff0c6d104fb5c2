"""Headless evaluation with the formulas library: Excel rounding, custom functions, traps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.table import Table

from kpixl.errors import WorkbookError
from kpixl.workbook.evaluate import (
    CODE_NOT_COMPUTED,
    CODE_UNSUPPORTED_FORMULA,
    evaluate_workbook,
    install_functions,
)


def _workbook(path: Path, cells: dict[str, object], title: str = "Sheet") -> Path:
    """Write one sheet whose cells (values or formulas) are given by address."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for address, value in cells.items():
        sheet[address] = value
    book.save(path)
    return path


@pytest.mark.parametrize("function", ["ROUND", "ROUNDUP", "ROUNDDOWN"])
def test_rounding_matches_the_values_excel_saved(function: str, corpus: Path) -> None:
    path = corpus / "xlcalculator" / f"tests_resources_{function}.xlsx"
    if not path.is_file():
        pytest.skip(f"corpus file {path} not present")
    cached = openpyxl.load_workbook(path, data_only=True)
    values = evaluate_workbook(path)
    assert len(values) == {"ROUND": 7, "ROUNDUP": 5, "ROUNDDOWN": 5}[function]
    for key, value in values.items():
        sheet, cell = key.split("!")
        assert value == cached[sheet][cell].value, key


def test_half_cent_cases_round_like_excel(tmp_path: Path) -> None:
    cells: dict[str, object] = {
        "A1": "=ROUND(1.005, 2)",
        "A2": "=ROUND(2.675, 2)",
        "A3": "=ROUND(-1.475, 2)",
        "A4": "=ROUND(B1, 2)",
        "A5": "=ROUND(0.285, 2)",
        "A6": "=ROUND(-0.001, 2)",
        "A7": '=ROUND("1.005", 2)',
        "A8": "=SUMPRODUCT(ROUND(B1:B3, 2))",
        "A9": "=ROUNDUP(-3.14159, 1)",
        "A10": "=ROUNDDOWN(-3.14159, 1)",
        "A11": "=ROUNDUP(0.1 + 0.2, 1)",
        "A12": "=ROUNDDOWN(31415.92654, -2)",
        "A13": "=ROUND(1/0, 2)",
        "B1": 1.005,
        "B2": 2.675,
        "B3": -1.475,
    }
    values = evaluate_workbook(_workbook(tmp_path / "round.xlsx", cells))
    assert values == {
        "Sheet!A1": 1.01,
        "Sheet!A2": 2.68,
        "Sheet!A3": -1.48,
        "Sheet!A4": 1.01,
        "Sheet!A5": 0.29,
        "Sheet!A6": 0.0,
        "Sheet!A7": 1.01,
        "Sheet!A8": pytest.approx(2.21, abs=1e-12),
        "Sheet!A9": -3.2,
        "Sheet!A10": -3.1,
        # 0.1 + 0.2 = 0.30000000000000004 is 0.3 in its 15-digit form (LibreOffice agrees).
        "Sheet!A11": 0.3,
        "Sheet!A12": 31400.0,
        "Sheet!A13": "#DIV/0!",
    }


def test_array_formula_rounds_element_wise(tmp_path: Path) -> None:
    path = tmp_path / "array.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet"
    for row, value in enumerate([1.005, 2.675, -1.475], start=1):
        sheet.cell(row, 2, value)
    sheet["A1"] = ArrayFormula("A1:A3", "=ROUND(B1:B3, 2)")
    book.save(path)
    assert evaluate_workbook(path) == {"Sheet!A1": 1.01, "Sheet!A2": 2.68, "Sheet!A3": -1.48}


def _stepped_rate(attainment: float, tiers: list[list[float]]) -> float:
    """A toy two-column from/rate lookup, shaped like KPIXL_FACTOR's tiers argument."""
    rate = 0.0
    for start, tier_rate in tiers:
        if attainment >= start:
            rate = tier_rate
    return rate


def test_custom_functions_get_plain_values_and_ranges(tmp_path: Path) -> None:
    seen: list[tuple[Any, ...]] = []

    def double(x: float) -> float:
        seen.append((x,))
        return x * 2

    cells: dict[str, object] = {
        "A1": "=KPIXL_TEST_DOUBLE(B1)",
        "A2": "=kpixl_test_double(21)",
        "A3": "=KPIXL_TEST_STEP(B2, D1:E3)",
        "A4": "=KPIXL_TEST_STEP(1.25, D1:E3) * 100",
        "A5": "=KPIXL_TEST_SHAPE(D1:E3)",
        "A6": "=KPIXL_TEST_SHAPE(B9)",
        "A7": "=KPIXL_TEST_DOUBLE(A1) + 1",
        "B1": 1.5,
        "B2": 1.1,
        "D1": 0.8,
        "E1": 0.5,
        "D2": 1.0,
        "E2": 1.0,
        "D3": 1.2,
        "E3": 1.3,
    }
    functions: dict[str, Callable[..., Any]] = {
        "KPIXL_TEST_DOUBLE": double,
        "kpixl_test_step": _stepped_rate,
        "KPIXL_TEST_SHAPE": repr,
    }
    values = evaluate_workbook(_workbook(tmp_path / "udf.xlsx", cells), functions)
    assert values == {
        "Sheet!A1": 3.0,
        "Sheet!A2": 42.0,
        "Sheet!A3": 1.0,
        "Sheet!A4": 130.0,
        "Sheet!A5": "[[0.8, 0.5], [1.0, 1.0], [1.2, 1.3]]",
        "Sheet!A6": "None",
        "Sheet!A7": 7.0,
    }
    assert sorted(seen) == [(1.5,), (3.0,), (21.0,)]


def test_custom_function_errors_become_excel_errors(tmp_path: Path) -> None:
    calls: list[object] = []

    def fail(x: float) -> float:
        raise ValueError(f"bad {x}")

    def record(x: object) -> float:
        calls.append(x)
        return 1.0

    cells: dict[str, object] = {
        "A1": "=KPIXL_TEST_FAIL(1)",
        "A2": "=KPIXL_TEST_ERROR(1)",
        "A3": "=ISNA(A2)",
        "A4": "=IFERROR(A2, -1)",
        "A5": "=KPIXL_TEST_NUM(1)",
        "A6": "=KPIXL_TEST_RECORD(1/0)",
        "A7": "=KPIXL_TEST_RECORD(B1:B2)",
        "A8": "=KPIXL_TEST_NOT_INSTALLED(1)",
        "A9": "=KPIXL_TEST_NAN(1)",
        "B1": 1,
        "B2": "=NA()",
    }
    functions: dict[str, Callable[..., Any]] = {
        "KPIXL_TEST_FAIL": fail,
        "KPIXL_TEST_ERROR": lambda x: "#N/A",
        "KPIXL_TEST_NUM": lambda x: "#NUM! target must be > 0",
        "KPIXL_TEST_RECORD": record,
        "KPIXL_TEST_NAN": lambda x: float("nan"),
    }
    values = evaluate_workbook(_workbook(tmp_path / "errors.xlsx", cells), functions)
    assert values == {
        "Sheet!A1": "#VALUE!",
        "Sheet!A2": "#N/A",
        "Sheet!A3": True,
        "Sheet!A4": -1.0,
        "Sheet!A5": "#NUM!",
        "Sheet!A6": "#DIV/0!",
        "Sheet!A7": "#N/A",
        "Sheet!A8": "#NAME?",
        "Sheet!A9": "#NUM!",
        "Sheet!B2": "#N/A",
    }
    assert calls == []  # an error argument short-circuits, the function is not called


def test_install_functions_is_idempotent_and_replaces(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "twice.xlsx", {"A1": "=KPIXL_TEST_AGAIN(2)"})
    install_functions({"KPIXL_TEST_AGAIN": lambda x: x + 1})
    install_functions({"KPIXL_TEST_AGAIN": lambda x: x + 1})
    assert evaluate_workbook(path) == {"Sheet!A1": 3.0}
    assert evaluate_workbook(path, {"KPIXL_TEST_AGAIN": lambda x: x * 10}) == {"Sheet!A1": 20.0}


def test_install_functions_rejects_bad_names() -> None:
    with pytest.raises(WorkbookError, match="not a valid Excel function name"):
        install_functions({"KPIXL TEST": lambda: 1})


def test_sheet_names_cross_sheet_references_and_defined_names(tmp_path: Path) -> None:
    path = tmp_path / "sheets.xlsx"
    book = openpyxl.Workbook()
    quote = book.active
    assert quote is not None
    quote.title = "Quote Sheet"
    settlement = book.create_sheet("结算 Settlement")
    settlement["A1"] = 21
    settlement["B1"] = "=A1 * 2"
    quote["A1"] = "='结算 Settlement'!B1 + 1"
    quote["A2"] = "=KPIXL_POOL * 2"
    book.defined_names["KPIXL_POOL"] = DefinedName("KPIXL_POOL", attr_text="'结算 Settlement'!$A$1")
    book.save(path)
    assert evaluate_workbook(path) == {
        "Quote Sheet!A1": 43.0,
        "Quote Sheet!A2": 42.0,
        "结算 Settlement!B1": 42.0,
    }


def test_native_formula_idioms(tmp_path: Path) -> None:
    cells: dict[str, object] = {
        "A1": "=N(TRUE)",
        "A2": "=N(B1 > 1)",
        "A3": "=SUMPRODUCT((B1:B3 > 1) * 1, B1:B3)",
        "A4": "=INDEX(E1:E3, MATCH(1.1, D1:D3, 1))",
        "A5": "=IFERROR(INDEX(E1:E3, MATCH(0.5, D1:D3, 1)), 0)",
        "A6": "=MAX(0, MIN(1.5, B3 / B2))",
        "A7": '=N("text")',
        "A8": "=SUM(N(B1 > 0), N(B2 > 5))",
        "B1": 1,
        "B2": 2,
        "B3": 3,
        "D1": 0.8,
        "E1": 0.5,
        "D2": 1.0,
        "E2": 1.0,
        "D3": 1.2,
        "E3": 1.3,
    }
    values = evaluate_workbook(_workbook(tmp_path / "native.xlsx", cells))
    assert values == {
        "Sheet!A1": 1.0,
        "Sheet!A2": 0.0,
        "Sheet!A3": 5.0,
        "Sheet!A4": 1.0,
        "Sheet!A5": 0.0,
        "Sheet!A6": 1.5,
        "Sheet!A7": 0.0,
        "Sheet!A8": 1.0,
    }


def test_double_minus_trap_is_still_there(tmp_path: Path) -> None:
    # formulas 1.3.4 parses `--x` as unary plus, so booleans are not turned into numbers
    # (Excel and LibreOffice give TRUE -> 1 and 5 here). If this fails, formulas fixed it:
    # update docs/formulas-traps.md.
    cells: dict[str, object] = {
        "A1": "=--TRUE",
        "A2": "=SUMPRODUCT(--(B1:B3 > 1), B1:B3)",
        "B1": 1,
        "B2": 2,
        "B3": 3,
    }
    values = evaluate_workbook(_workbook(tmp_path / "minus.xlsx", cells))
    assert values == {"Sheet!A1": True, "Sheet!A2": 0.0}


def test_structured_references_raise_a_workbook_error(tmp_path: Path) -> None:
    path = tmp_path / "table.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "amount"])
    sheet.append(["a", 1])
    sheet.append(["b", 2])
    sheet.add_table(Table(displayName="Amounts", ref="A1:B3"))
    sheet["D1"] = "=SUM(Amounts[amount])"
    book.save(path)
    with pytest.raises(WorkbookError) as caught:
        evaluate_workbook(path)
    (issue,) = caught.value.issues
    assert issue.location == "table.xlsx"
    assert issue.code == CODE_UNSUPPORTED_FORMULA
    assert "Amounts[amount]" in issue.message


def test_circular_references_are_reported_not_left_blank(tmp_path: Path) -> None:
    cells: dict[str, object] = {"A1": "=B1 + 1", "B1": "=A1 + 1", "C1": "=2 * 21"}
    with pytest.raises(WorkbookError) as caught:
        evaluate_workbook(_workbook(tmp_path / "circular.xlsx", cells))
    assert [issue.location for issue in caught.value.issues] == [
        "circular.xlsx:Sheet!A1",
        "circular.xlsx:Sheet!B1",
    ]
    assert {issue.code for issue in caught.value.issues} == {CODE_NOT_COMPUTED}
