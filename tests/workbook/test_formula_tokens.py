"""Formulas compare by meaning (SPEC §7): what applications rewrite is equal, edits are not."""

from __future__ import annotations

import pytest

from kpixl.workbook.formula_tokens import constant_value, same_formula, shared_formula

TEMPLATE = "=IF(ISNUMBER(Quote!$B$22),Y2<Quote!$B$22,FALSE)"


@pytest.mark.parametrize(
    ("saved", "template"),
    [
        ("=IF(ISNUMBER(Quote!$B$22),Y2<Quote!$B$22,FALSE())", TEMPLATE),  # LibreOffice
        ("=if(isnumber(quote!$b$22), y2 < quote!$b$22, false)", TEMPLATE),  # case, spaces
        ("=SUM(KPIs!$E$10)", "=SUM(KPIs!$E$10:$E$10)"),  # Gnumeric
        ("=SUM('KPIs'!$E$10:$E$12)", "=SUM(KPIs!$E$10:$E$12)"),  # quoted sheet name
        ("=SUM(KPIs!$E$10:KPIs!$E$12)", "=SUM(KPIs!$E$10:$E$12)"),
        ("=_xlfn.IFS(A1>0,1,TRUE(),0)", "=IFS(A1>0,1,TRUE,0)"),  # Excel's prefix
        ("=_xludf.kpixl_round(A1,2)", "=KPIXL_ROUND(A1,2)"),  # saved without the add-in
        ("=_xlws.SORT(A1:A3)", "=SORT(A1:A3)"),
        ("=ROUND(A1*1.50,2)", "=ROUND(A1*1.5,2)"),  # the spelling of a number
        ('=IFERROR(__xludf.DUMMYFUNCTION("KPIXL_ROUND(A1,""x"")"),5)', '=KPIXL_ROUND(A1,"x")'),
        ("FALSE()", "=FALSE"),  # without the leading =
    ],
)
def test_rewrites_keep_the_meaning(saved: str, template: str) -> None:
    assert same_formula(saved, template)


@pytest.mark.parametrize(
    ("edited", "template"),
    [
        ("=SUM(KPIs!E$10:E$12)", "=SUM(KPIs!$E$10:$E$12)"),  # absolute made relative
        ("=SUM(KPIs!$E$10:$E$13)", "=SUM(KPIs!$E$10:$E$12)"),  # range widened
        ("=SUM(Tiers!$E$10:$E$12)", "=SUM(KPIs!$E$10:$E$12)"),  # another sheet
        ("=ROUND(A1*1.51,2)", "=ROUND(A1*1.5,2)"),  # a number
        ('=IF(A1,"Yes","no")', '=IF(A1,"yes","no")'),  # text keeps its case
        ("=IF(A1,TRUE,FALSE)", "=IF(A1,FALSE,TRUE)"),
        ("=MAX(A1,B1)", "=MIN(A1,B1)"),
        ("=A1+B1", "=A1-B1"),
        ("=(A1+B1)*2", "=A1+B1*2"),
        ("=A1 B1", "=A1B1"),  # Excel's intersection operator is not layout
        ("=SUM(A1:A3", "=SUM(A1:A3)"),  # the tokenizer refuses it: compared as text
    ],
)
def test_edits_are_found(edited: str, template: str) -> None:
    assert not same_formula(edited, template)


@pytest.mark.parametrize(
    ("formula", "value"),
    [
        ("=FALSE()", False),
        ("=TRUE", True),
        ("=3", 3),
        ("=-2.5", -2.5),
        ("=1E3", 1000),
        ('="a ""b"""', 'a "b"'),
    ],
)
def test_constant_formulas_are_their_value(formula: str, value: object) -> None:
    found, got = constant_value(formula)
    assert found
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize("formula", ["=A1", "=1+2", '=-"x"', "=SUM(1)", "=NOW()", "=0_0", "=1_000"])
def test_other_formulas_are_not_constants(formula: str) -> None:
    assert constant_value(formula) == (False, None)


def test_shared_formulas_move_relative_references_only() -> None:
    assert shared_formula("=ROUND(A2*$B$1,2)", "C2", "C7") == "=ROUND(A7*$B$1,2)"
    assert shared_formula("SUM($A$1:A2)", "B2", "C9") == "SUM($A$1:B9)"
