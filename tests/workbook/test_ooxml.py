"""One definition of relationship targets and column letters for every package reader."""

from __future__ import annotations

from xml.sax.saxutils import escape

from hypothesis import given
from hypothesis import strategies as st
from openpyxl.utils import column_index_from_string, get_column_letter

from kpixl.workbook.ooxml import (
    column_letters,
    column_number,
    escape_text,
    rels_part,
    resolve_target,
)


def test_targets_resolve_one_way_for_scanner_and_patcher() -> None:
    assert resolve_target("xl/workbook.xml", "worksheets/sheet1.xml") == "xl/worksheets/sheet1.xml"
    assert resolve_target("xl/workbook.xml", "/xl/worksheets/../worksheets/s.xml") == (
        "xl/worksheets/s.xml"
    )
    assert resolve_target("", "xl/work%20book.xml") == "xl/work book.xml"
    assert resolve_target("xl/worksheets/sheet1.xml", "../drawings/d1.xml") == "xl/drawings/d1.xml"
    assert rels_part("xl/workbook.xml") == "xl/_rels/workbook.xml.rels"
    assert rels_part("") == "_rels/.rels"


def test_column_letters_agree_with_openpyxl() -> None:
    for number in (1, 26, 27, 52, 702, 703, 16384):
        assert column_letters(number) == get_column_letter(number)
        assert column_number(column_letters(number)) == column_index_from_string(
            get_column_letter(number)
        )
    assert column_number("xfd") == 16384


@given(st.text())
def test_escape_text_is_saxutils_escape(text: str) -> None:
    assert escape_text(text) == escape(text)
