"""KPIXL_HALF and KPIXL_STREAK as plain functions equal the review engine."""

from __future__ import annotations

import pytest

from kpixl.actuals import read_actuals, read_adjustments
from kpixl.engine.review import longest_streak, review
from kpixl.engine.settle import settle
from kpixl.model import load_contract
from tests.conftest import EXAMPLES
from udfs import kpixl_udfs as udf
from udfs.kpixl_udfs import UdfInputError


@pytest.fixture(autouse=True)
def errors_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(udf, "_ERRORS_AS_TEXT", False)


@pytest.mark.parametrize("name", ["acme-amz-us", "shopee-vn-fashion", "tiktok-us-beauty"])
def test_review_udfs_rebuild_kpixl_review_of_the_examples(name: str) -> None:
    contract = load_contract(EXAMPLES / f"{name}.yaml")
    adjustments = EXAMPLES / f"{name}.adjustments.csv"
    result = settle(
        contract,
        read_actuals(EXAMPLES / f"{name}.actuals.csv"),
        read_adjustments(adjustments) if adjustments.exists() else None,
    )
    figures = review(contract, result)
    # A column of the contract's periods: settled ones hold a number, the rest are blank.
    settled = {p.index: i for i, p in enumerate(result.periods)}
    for kpi in figures.kpis:
        column = [
            [kpi.attainment[settled[p]] if p in settled else ""]
            for p in range(1, contract.periods + 1)
        ]
        assert udf.kpixl_half(column, "first") == kpi.first_half_attainment
        assert udf.kpixl_half(column, "second") == kpi.second_half_attainment
    assert figures.exit is not None
    misses = [
        [float(result.periods[settled[p]].miss) if p in settled else None]
        for p in range(1, contract.periods + 1)
    ]
    assert udf.kpixl_streak(misses) == figures.exit.longest_streak


def test_halves_leave_the_odd_middle_period_out_and_are_blank_under_two() -> None:
    assert udf.kpixl_half([[1.0], [5.0], [2.0]], "first") == 1.0
    assert udf.kpixl_half([[1.0], [5.0], [2.0]], "second") == 2.0
    assert udf.kpixl_half([[1.0], [2.0], [3.0], [5.0]], "second") == 4.0
    assert udf.kpixl_half([[0.7], [None], [""]], "first") == ""


def test_a_period_not_settled_breaks_a_streak() -> None:
    assert udf.kpixl_streak([[1], [1], [None], [1], [0]]) == 2
    assert udf.kpixl_streak([[True], [True], [True]]) == 3
    assert udf.kpixl_streak([[0], [""], [0]]) == 0
    assert longest_streak([True, None, True, True, False, True]) == 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: udf.kpixl_half([[1.0]], "middle"), "KPIXL_HALF: which must be one of"),
        (lambda: udf.kpixl_half([["x"]], "first"), "attainments must be a number"),
        (lambda: udf.kpixl_half([[1.0]], None), "which is required"),
        (lambda: udf.kpixl_streak([["yes"]]), "misses must be a number"),
    ],
)
def test_bad_arguments_are_value_errors(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(UdfInputError, match=message):
        call()
