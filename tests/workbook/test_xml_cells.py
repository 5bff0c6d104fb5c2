"""The XML reader `kpixl recalc` reads a workbook's inputs with gives every cell openpyxl gives.

kpixl's own workbooks (every variant), the external corpus and hand-written XML for each cell
kind; what the reader does not reproduce it declines, and openpyxl reads the file as before.
The foreign applications' saves are checked where they are made (test_foreign_apps.py and
test_foreign_traits.py). Also: the prefilter that keeps template formulas away from openpyxl's
tokenizer lets every constant formula through.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpixl.actuals import Actuals
from kpixl.model import Contract
from kpixl.workbook import read as read_module
from kpixl.workbook.build import build_workbook
from kpixl.workbook.foreign_inputs import _maybe_constant
from kpixl.workbook.formula_tokens import constant_value
from kpixl.workbook.read import read_workbook_inputs
from kpixl.workbook.xml_cells import load_cells
from tests.workbook.contracts import case, priced_case
from tests.workbook.foreign import assert_same_cells_as_openpyxl, openpyxl_cells

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, spec_contract: Contract, spec_actuals: Actuals
) -> list[Path]:
    folder = tmp_path_factory.mktemp("built")
    paths = [
        build_workbook(spec_contract, spec_actuals, None, "native", out=folder / "native.xlsx"),
        build_workbook(spec_contract, spec_actuals, None, "udf", out=folder / "udf.xlsx"),
        build_workbook(
            spec_contract, spec_actuals, None, "native", lang="zh", out=folder / "zh.xlsx"
        ),
    ]
    for i in (1, 7):
        item = case(i)
        paths.append(
            build_workbook(
                item.contract, item.actuals, item.adjustments, "native", out=folder / f"c{i}.xlsx"
            )
        )
    priced = priced_case(3)
    paths.append(
        build_workbook(
            priced.contract, priced.actuals, priced.adjustments, "native", out=folder / "p.xlsx"
        )
    )
    return paths


def test_kpixl_workbooks_read_as_openpyxl_reads_them(built: list[Path]) -> None:
    for path in built:
        assert_same_cells_as_openpyxl(path)


def test_inputs_read_the_same_through_either_reader(
    built: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = [read_workbook_inputs(path) for path in built]
    monkeypatch.setattr(read_module, "load_cells", lambda path: None)  # openpyxl, as before
    assert [read_workbook_inputs(path) for path in built] == fast


def test_every_corpus_file_reads_as_openpyxl_or_is_left_to_it(corpus: Path) -> None:
    files = sorted(p for p in corpus.rglob("*") if p.suffix in (".xlsx", ".xlsm"))
    assert len(files) > 100
    read = 0
    for path in files:
        assert_same_cells_as_openpyxl(path, must_read=False)
        read += load_cells(path) is not None
    assert read > len(files) // 2  # most of them: the reader is not declining its way through


def _package(sheet: str, *, styles: str | None = None, strings: str = "", book: str = "") -> bytes:
    """A one-sheet package around hand-written sheet XML."""
    styles = styles or (
        f'<styleSheet xmlns="{_MAIN}"><numFmts count="1">'
        '<numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/></numFmts>'
        '<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/>'
        '<xf numFmtId="46"/><xf numFmtId="20"/></cellXfs></styleSheet>'
    )
    shared = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    main = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{main}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{main}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{main}.styles+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{shared}"/></Types>'
        ),
        "_rels/.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}">{book}'
            '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_RELS}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": styles,
        "xl/sharedStrings.xml": f'<sst xmlns="{_MAIN}">{strings}</sst>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{_MAIN}" xmlns:r="{_RELS}">{sheet}'
        "</worksheet>",
    }
    from io import BytesIO

    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


_CELLS = (
    "<sheetData>"
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
    '<c r="C1" t="inlineStr"><is><t xml:space="preserve"> in line </t></is></c>'
    '<c r="D1" t="inlineStr"><is><r><t>ri</t></r><r><t>ch</t></r></is></c>'
    '<c r="E1" t="inlineStr"/><c r="F1" t="s"><v>2</v></c></row>'
    '<row r="2"><c r="A2"><v>3</v></c><c r="B2"><v>2.5</v></c><c r="C2"><v>1E3</v></c>'
    '<c r="D2" t="b"><v>1</v></c><c r="E2" t="b"><v>0</v></c><c r="F2" t="e"><v>#N/A</v></c>'
    '<c r="G2" t="str"><v>text</v></c><c r="H2" s="1"/><c r="I2"><v></v></c></row>'
    '<row r="3"><c r="A3" s="1"><v>46023</v></c><c r="B3" s="2"><v>45658.5</v></c>'
    '<c r="C3" s="3"><v>1.25</v></c><c r="D3" s="4"><v>0.75</v></c><c r="E3" s="1"><v>30</v></c>'
    "</row>"
    '<row r="4"><c r="A4"><f>FALSE()</f><v>0</v></c><c r="B4" t="str"><f>"a"&amp;"b"</f></c>'
    '<c r="C4"><f t="shared" ref="C4:C6" si="0">A4+1</f><v>1</v></c></row>'
    '<row r="5"><c r="C5"><f t="shared" si="0"/><v>2</v></c><c><v>7</v></c><c><v>8</v></c></row>'
    '<row><c r="C6"><f t="shared" si="0"/></c></row>'
    '<row r="8"><c r="A8"><v>1</v></c><c r="B8"><v>2</v></c></row>'
    "</sheetData>"
    '<mergeCells count="1"><mergeCell ref="A8:C9"/></mergeCells>'
    '<hyperlinks><hyperlink ref="F12" display="x"/></hyperlinks>'
)
_STRINGS = (
    "<si><t>plain</t></si><si><r><t>rich </t></r><r><rPr><b/></rPr><t>text</t></r>"
    '<rPh sb="0" eb="1"><t>ignored</t></rPh></si><si><t>a_x005F_x000D_b</t></si>'
)


def test_every_cell_kind_reads_as_openpyxl(tmp_path: Path) -> None:
    path = tmp_path / "kinds.xlsx"
    path.write_bytes(_package(_CELLS, strings=_STRINGS))
    assert_same_cells_as_openpyxl(path)
    book = load_cells(path)
    assert book is not None
    sheet = book["Data"]
    assert sheet["B1"].value == "rich text"
    assert sheet["A3"].value == dt.datetime(2026, 1, 1)
    assert sheet["C3"].value == dt.timedelta(days=1.25)
    assert sheet["D3"].value == dt.time(18, 0)
    assert sheet["C6"].value == "=A6+1"  # a shared formula, moved as Excel moves it
    assert sheet["B9"].value is None and (9, 2) in sheet._cells  # merged: blank, present
    assert sheet.max_row == 12  # the hyperlink's cell exists


def test_1904_dates_read_as_openpyxl(tmp_path: Path) -> None:
    path = tmp_path / "mac.xlsx"
    sheet = '<sheetData><row r="1"><c r="A1" s="1"><v>1</v></c></row></sheetData>'
    path.write_bytes(_package(sheet, book='<workbookPr date1904="1"/>'))
    assert_same_cells_as_openpyxl(path)
    book = load_cells(path)
    assert book is not None and book["Data"]["A1"].value == dt.datetime(1904, 1, 2)


@pytest.mark.parametrize(
    ("sheet", "why"),
    [
        (
            '<sheetData><row r="1"><c r="A1"><f t="array" ref="A1">1</f></c></row></sheetData>',
            "array",
        ),
        ('<sheetData><row r="1"><c r="A1" s="9"><v>1</v></c></row></sheetData>', "no such style"),
        ('<sheetData><row r="1"><c r="A1" s="1"><v>9E9</v></c></row></sheetData>', "date range"),
        ('<sheetData><row r="1"><c r="A1" t="s"><v>5</v></c></row></sheetData>', "no string 5"),
        ('<sheetData><row r="1"><c r="1A"><v>1</v></c></row></sheetData>', "bad reference"),
        ('<sheetData><row r="1.5"><c><v>1</v></c></row></sheetData>', "row 1.5"),
        ("<sheetData><row>", "broken XML"),
    ],
)
def test_what_the_reader_does_not_reproduce_is_left_to_openpyxl(
    sheet: str, why: str, tmp_path: Path
) -> None:
    path = tmp_path / "odd.xlsx"
    path.write_bytes(_package(sheet))
    assert load_cells(path) is None, why


def test_a_file_left_to_openpyxl_reads_as_before(tmp_path: Path) -> None:
    path = tmp_path / "odd.xlsx"
    sheet = '<sheetData><row r="1"><c r="A1" s="1"><v>9E9</v></c></row></sheetData>'
    path.write_bytes(_package(sheet))
    assert load_cells(path) is None
    assert openpyxl_cells(path) == {"Data": {(1, 1): (str, "#VALUE!", "e")}}


_SPELLINGS = [
    "=FALSE()", "=false", "=TRUE", "= TRUE ( )", "=3", "= -3", "=+2.5E3", "=1e-3", "=.5",
    '="a""b"', '=""', "=_xlfn.TRUE()", "=-TRUE", "=--3", "=3%", "=(3)", "=A1", "=SUM(A1:A3)",
    '=IFERROR(__xludf.DUMMYFUNCTION("FALSE()"),FALSE)', "=#N/A", "=Name", "=1,2",
]  # fmt: skip


@pytest.mark.parametrize("formula", _SPELLINGS)
def test_the_constant_prefilter_lets_every_constant_through(formula: str) -> None:
    """`adopt_constants` tokenizes only formulas the prefilter passes: never miss a constant."""
    found, _value = constant_value(formula)
    assert not found or _maybe_constant(formula), formula


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='=+- .0123456789eE"()TRUEFALSrueflas_xn.A1:%,#!$', max_size=14))
def test_no_formula_the_tokenizer_calls_constant_is_filtered_out(body: str) -> None:
    formula = "=" + body
    found, _value = constant_value(formula)
    assert not found or _maybe_constant(formula), formula
