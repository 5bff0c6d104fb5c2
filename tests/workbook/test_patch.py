"""Cached-value patching: new values in formula cells, every other byte of the package kept."""

from __future__ import annotations

import re
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable, Mapping
from datetime import datetime
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image as OpenpyxlImage
from openpyxl.workbook.defined_name import DefinedName
from python_calamine import CalamineWorkbook

from kpixl.atomic import is_atomic_temp
from kpixl.errors import WorkbookError
from kpixl.workbook.patch import CellValue, PatchReport, patch_cached_values

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"

VALUES: dict[str, dict[str, CellValue]] = {
    "Fees": {
        "C2": 110.0,
        "C3": 12740.49,
        "C4": 0.1 + 0.2,
        "C5": 31500.0,
        "D2": 'ok & <fine> "quoted"',
        "E2": True,
        "E3": "#DIV/0!",
    },
    "Summary": {"B2": 63000, "B3": -1e-07},
}
PATCHED_PARTS = {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"}
CUSTOM_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?><kpixl xmlns="urn:kpixl:test"><id>C-1</id></kpixl>'
)


def _tiny_png() -> bytes:
    """Build a valid 1x1 red PNG without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


class _RawPng(OpenpyxlImage):  # type: ignore[misc]
    """An openpyxl image from PNG bytes; openpyxl's own class needs Pillow, which we lack."""

    def __init__(self, data: bytes) -> None:
        self.ref = data
        self.width, self.height, self.format = 20, 20, "png"

    def _data(self) -> bytes:
        return self.ref


def _add_custom_xml(path: Path) -> None:
    """Add a custom XML part (item, properties, rels, content type) as Office does."""
    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    rel = (
        b'<Relationship Id="rIdCustom1" Target="../customXml/item1.xml" Type="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/relationships/customXml"/></Relationships>'
    )
    override = (
        b'<Override PartName="/customXml/itemProps1.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.customXmlProperties+xml"/></Types>'
    )
    edits = {"xl/_rels/workbook.xml.rels": rel, "[Content_Types].xml": override}
    closers = {
        "xl/_rels/workbook.xml.rels": b"</Relationships>",
        "[Content_Types].xml": b"</Types>",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in members:
            name = info.filename
            target.writestr(
                info, data.replace(closers[name], edits[name]) if name in edits else data
            )
        target.writestr("customXml/item1.xml", CUSTOM_XML)
        target.writestr(
            "customXml/itemProps1.xml",
            b'<ds:datastoreItem ds:itemID="{6E1C4D3A-0000-4000-8000-000000000001}" xmlns:ds='
            b'"http://schemas.openxmlformats.org/officeDocument/2006/customXml"/>',
        )
        target.writestr(
            "customXml/_rels/item1.xml.rels",
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Target="itemProps1.xml" Type="http://schemas.openxmlformats'
            b'.org/officeDocument/2006/relationships/customXmlProps"/></Relationships>',
        )


def _build_openpyxl(path: Path) -> Path:
    """Two formula sheets, a plain extra sheet, a chart, an image, a comment, a name."""
    book = openpyxl.Workbook()
    fees = book.active
    fees.title = "Fees"
    fees.append(["item", "base", "with fee", "status", "flags"])
    for row, base in enumerate([100, 11582.26, 300], start=2):
        fees.cell(row, 1, f"line {row}")
        fees.cell(row, 2, base)
        fees.cell(row, 3, f"=ROUND(B{row}*1.1,2)").number_format = "#,##0.00"
    fees["C5"] = "=SUM(C2:C4)"
    fees["D2"] = '=IF(C5>0,"ok","no")'
    fees["E2"] = "=C5>0"
    fees["E3"] = "=1/0"
    fees["A1"].comment = Comment("Edited by finance", "Ana")
    chart = BarChart()
    chart.add_data(Reference(fees, min_col=3, min_row=1, max_row=4), titles_from_data=True)
    fees.add_chart(chart, "G2")
    fees.add_image(_RawPng(_tiny_png()), "G20")
    summary = book.create_sheet("Summary")
    summary["A2"] = "total fee"
    summary["B2"] = "=Fees!C5*2"
    summary["B3"] = "=ROUND(B2,2)-B2"
    book.create_sheet("Notes")["A1"] = "free text the user added"
    book.defined_names["KPIXL_TOTAL_FEE"] = DefinedName("KPIXL_TOTAL_FEE", attr_text="Summary!$B$2")
    book.save(path)
    _add_custom_xml(path)
    return path


def _build_xlsxwriter(path: Path) -> Path:
    """The same content written by XlsxWriter, which stores <v>0</v> beside each formula."""
    book = xlsxwriter.Workbook(str(path))
    fees = book.add_worksheet("Fees")
    money = book.add_format({"num_format": "#,##0.00"})
    fees.write_row("A1", ["item", "base", "with fee", "status", "flags"])
    for row, base in enumerate([100, 11582.26, 300], start=2):
        fees.write(f"A{row}", f"line {row}")
        fees.write(f"B{row}", base)
        fees.write_formula(f"C{row}", f"=ROUND(B{row}*1.1,2)", money)
    fees.write_formula("C5", "=SUM(C2:C4)", money)
    fees.write_formula("D2", '=IF(C5>0,"ok","no")')
    fees.write_formula("E2", "=C5>0")
    fees.write_formula("E3", "=1/0")
    fees.write_array_formula("F2:F4", "{=C2:C4*2}")
    fees.write_comment("A1", "Edited by finance")
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": "=Fees!$C$2:$C$4"})
    fees.insert_chart("G2", chart)
    fees.insert_image("G20", "tiny.png", {"image_data": BytesIO(_tiny_png())})
    summary = book.add_worksheet("Summary")
    summary.write("A2", "total fee")
    summary.write_formula("B2", "=Fees!C5*2")
    summary.write_formula("B3", "=ROUND(B2,2)-B2")
    book.add_worksheet("Notes").write("A1", "free text the user added")
    book.define_name("KPIXL_TOTAL_FEE", "=Summary!$B$2")
    book.close()
    _add_custom_xml(path)
    return path


BUILDERS: dict[str, Callable[[Path], Path]] = {
    "openpyxl": _build_openpyxl,
    "xlsxwriter": _build_xlsxwriter,
}


@pytest.fixture(params=sorted(BUILDERS))
def book(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    builder = BUILDERS[request.param]
    return builder(tmp_path / f"{request.param}.xlsx")


def _parts(path: Path) -> list[tuple[zipfile.ZipInfo, bytes]]:
    """Every zip member with its uncompressed bytes, in stored order."""
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
        return [(info, package.read(info)) for info in package.infolist()]


def _mask_patched(xml: bytes, refs: set[str]) -> bytes:
    """Blank the <v> and t= of the given cells so the rest can be compared byte for byte."""

    def mask(match: re.Match[bytes]) -> bytes:
        cell = match.group(0)
        ref = re.search(rb'\sr="([A-Z]+[0-9]+)"', cell)
        if ref is None or ref.group(1).decode() not in refs:
            return cell
        cell = re.sub(rb'\st="[^"]*"', b"", cell)
        cell = re.sub(rb"<(\w+:)?v\s*/>|<(\w+:)?v>.*?</(\w+:)?v>", b"", cell)
        return cell.replace(b"></c>", b"/>").replace(b"></x:c>", b"/>")

    return re.sub(rb"<(?:\w+:)?c\s[^>]*?(?:/>|>.*?</(?:\w+:)?c>)", mask, xml, flags=re.S)


def _assert_only_patched_cells_differ(
    before: Path, after: Path, patched: Mapping[str, set[str]]
) -> None:
    """Every part is byte-identical except the patched cells' <v> and t= in sheet parts."""
    old, new = _parts(before), _parts(after)
    assert [i.filename for i, _ in old] == [i.filename for i, _ in new]
    for (old_info, old_data), (new_info, new_data) in zip(old, new, strict=True):
        name = old_info.filename
        for field in ("date_time", "compress_type", "external_attr", "comment", "create_system"):
            assert getattr(new_info, field) == getattr(old_info, field), (name, field)
        if name in patched:
            assert old_data != new_data, name
            refs = patched[name]
            assert _mask_patched(new_data, refs) == _mask_patched(old_data, refs), name
        else:
            assert new_data == old_data, name
            # Copied raw: the very same compressed stream, not a recompression.
            assert (new_info.CRC, new_info.compress_size) == (old_info.CRC, old_info.compress_size)


def _part_refs(values: Mapping[str, Mapping[str, CellValue]]) -> dict[str, set[str]]:
    """Map sheet parts of the test books to the references patched in them."""
    parts = {"Fees": "xl/worksheets/sheet1.xml", "Summary": "xl/worksheets/sheet2.xml"}
    return {parts[sheet]: set(cells) for sheet, cells in values.items()}


def test_patched_values_read_back(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    report = patch_cached_values(book, out, VALUES)
    assert report == PatchReport(
        patched=tuple(f"{s}!{r}" for s, cells in VALUES.items() for r in cells),
        issues=(),
        parts_rewritten=tuple(sorted(PATCHED_PARTS)),
    )
    assert report.ok
    cached = openpyxl.load_workbook(out, data_only=True)
    for sheet, cells in VALUES.items():
        for ref, value in cells.items():
            assert cached[sheet][ref].value == value, (sheet, ref)
    formulas = openpyxl.load_workbook(out)
    assert formulas["Fees"]["C5"].value == "=SUM(C2:C4)"
    assert formulas["Summary"]["B2"].value == "=Fees!C5*2"
    calamine = CalamineWorkbook.from_path(str(out))
    fees = calamine.get_sheet_by_name("Fees").to_python(skip_empty_area=False)
    assert [row[2] for row in fees[1:5]] == [110.0, 12740.49, 0.30000000000000004, 31500.0]
    assert fees[1][3] == 'ok & <fine> "quoted"'
    assert fees[1][4] is True
    summary = calamine.get_sheet_by_name("Summary").to_python(skip_empty_area=False)
    assert [summary[1][1], summary[2][1]] == [63000.0, -1e-07]


def test_every_other_part_is_byte_identical(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    patch_cached_values(book, out, VALUES)
    _assert_only_patched_cells_differ(book, out, _part_refs(VALUES))
    names = [info.filename for info, _ in _parts(out)]
    assert "customXml/item1.xml" in names
    assert any(name.startswith("xl/charts/") for name in names)
    assert any(name.startswith("xl/media/") for name in names)
    assert any("comments" in name for name in names)
    assert {i.filename: d for i, d in _parts(out)}["customXml/item1.xml"] == CUSTOM_XML


def test_numbers_are_written_shortest_round_trip(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    patch_cached_values(book, out, VALUES)
    with zipfile.ZipFile(out) as package:
        fees = package.read("xl/worksheets/sheet1.xml")
    cell = re.compile(rb'<c r="(C[2-5]|E[23])"([^>]*)>.*?<v>([^<]*)</v>')
    found = {m.group(1): (m.group(2), m.group(3)) for m in cell.finditer(fees)}
    assert found[b"C2"][1] == b"110"
    assert found[b"C3"][1] == b"12740.49"
    assert found[b"C4"][1] == b"0.30000000000000004"
    assert found[b"C5"][1] == b"31500"
    assert b't="b"' in found[b"E2"][0] and found[b"E2"][1] == b"1"
    assert b't="e"' in found[b"E3"][0] and found[b"E3"][1] == b"#DIV/0!"


def test_patching_twice_is_idempotent(book: Path, tmp_path: Path) -> None:
    once, twice = tmp_path / "once.xlsx", tmp_path / "twice.xlsx"
    patch_cached_values(book, once, VALUES)
    patch_cached_values(once, twice, VALUES)
    assert once.read_bytes() == twice.read_bytes()


def test_in_place_patch(book: Path, tmp_path: Path) -> None:
    expected = tmp_path / "expected.xlsx"
    patch_cached_values(book, expected, VALUES)
    report = patch_cached_values(book, book, VALUES)
    assert report.ok
    assert book.read_bytes() == expected.read_bytes()
    assert [p for p in tmp_path.iterdir() if is_atomic_temp(p)] == []


def test_non_formula_and_missing_targets_are_reported(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    request: dict[str, dict[str, CellValue]] = {
        "Fees": {"C2": 1.5, "B2": 99, "A1": "x", "Z99": 1, "B": 1, "C3": float("nan")},
        "Nope": {"A1": 1},
        "Notes": {"A1": 2},
    }
    report = patch_cached_values(book, out, request)
    assert report.patched == ("Fees!C2",)
    codes = {(issue.location, issue.code) for issue in report.issues}
    label = book.name
    assert codes == {
        (f"{label}:Fees!B2", "KX814"),
        (f"{label}:Fees!A1", "KX814"),
        (f"{label}:Fees!Z99", "KX813"),
        (f"{label}:Fees!B", "KX816"),
        (f"{label}:Fees!C3", "KX815"),
        (f"{label}:Nope", "KX812"),
        (f"{label}:Notes!A1", "KX814"),
    }
    assert not report.ok
    cached = openpyxl.load_workbook(out, data_only=True)
    assert cached["Fees"]["B2"].value == 100
    assert cached["Fees"]["A1"].value == "item"
    assert cached["Notes"]["A1"].value == "free text the user added"
    assert cached["Fees"]["C2"].value == 1.5
    _assert_only_patched_cells_differ(book, out, {"xl/worksheets/sheet1.xml": {"C2"}})


def test_sheet_names_and_references_are_matched_like_excel(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    report = patch_cached_values(book, out, {"fees": {"$c$2": 7}, "SUMMARY": {"b2": 8}})
    assert report.patched == ("Fees!C2", "Summary!B2")
    cached = openpyxl.load_workbook(out, data_only=True)
    assert (cached["Fees"]["C2"].value, cached["Summary"]["B2"].value) == (7, 8)


def test_none_removes_the_cached_value(book: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    patch_cached_values(book, first, {"Fees": {"D2": "text"}})
    report = patch_cached_values(first, second, {"Fees": {"D2": None}})
    assert report.ok
    assert openpyxl.load_workbook(second, data_only=True)["Fees"]["D2"].value is None
    with zipfile.ZipFile(second) as package:
        cell = re.search(rb'<c r="D2"[^>]*>.*?</c>', package.read("xl/worksheets/sheet1.xml"))
    assert cell is not None
    assert b"<v" not in cell.group(0) and b"t=" not in cell.group(0)


def test_array_formula_members_are_formula_cells(tmp_path: Path) -> None:
    book = _build_xlsxwriter(tmp_path / "array.xlsx")
    out = tmp_path / "out.xlsx"
    report = patch_cached_values(book, out, {"Fees": {"F2": 220, "F3": 25480.98, "F4": 660}})
    assert report.ok
    cached = openpyxl.load_workbook(out, data_only=True)["Fees"]
    assert [cached[f"F{row}"].value for row in (2, 3, 4)] == [220, 25480.98, 660]


def test_force_full_calc_changes_only_the_workbook_part(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    report = patch_cached_values(book, out, {"Fees": {"C2": 1}}, force_full_calc=True)
    assert set(report.parts_rewritten) == {"xl/workbook.xml", "xl/worksheets/sheet1.xml"}
    with zipfile.ZipFile(book) as old, zipfile.ZipFile(out) as new:
        before, after = old.read("xl/workbook.xml"), new.read("xl/workbook.xml")
    assert re.search(rb'<calcPr[^>]*fullCalcOnLoad="1"', after)
    assert re.sub(rb"<calcPr[^>]*>", b"", after).replace(b' fullCalcOnLoad="1"', b"") == re.sub(
        rb"<calcPr[^>]*>", b"", before
    )
    assert openpyxl.load_workbook(out).calculation.fullCalcOnLoad is True


def _minimal_package(path: Path, sheet_xml: bytes, sheet_target: str = "worksheets/s.xml") -> Path:
    """Write the smallest package around one hand-written worksheet part."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            's.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            'worksheet+xml"/></Types>',
        )
        package.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        package.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        package.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="{sheet_target}"/>'
            "</Relationships>",
        )
        package.writestr("xl/worksheets/s.xml", sheet_xml)
    return path


def _sheet(cells: bytes, prefix: bytes = b"") -> bytes:
    """Wrap cell XML into a worksheet part, optionally with a namespace prefix."""
    ns = b"xmlns" + (b":" + prefix[:-1] if prefix else b"")
    main = b'="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    return (
        b"<" + prefix + b"worksheet " + ns + main + b"><" + prefix + b"sheetData>" + cells
        + b"</" + prefix + b"sheetData></" + prefix + b"worksheet>"
    )  # fmt: skip


def _patched_sheet(tmp_path: Path, sheet_xml: bytes, cells: dict[str, CellValue]) -> bytes:
    """Patch one hand-written sheet and return its new XML, checking every cell was done."""
    book = _minimal_package(tmp_path / "in.xlsx", sheet_xml)
    out = tmp_path / "out.xlsx"
    report = patch_cached_values(book, out, {"Data": cells})
    assert report.issues == ()
    with zipfile.ZipFile(out) as package:
        return package.read("xl/worksheets/s.xml")


def test_cells_without_r_attributes_and_inline_strings(tmp_path: Path) -> None:
    cells = (
        b'<row r="3"><c><v>1</v></c><c t="inlineStr"><f>"a"&amp;"b"</f><is><t>ab</t></is></c>'
        b'<c s="2"><f>A3*2</f></c></row><row><c r="B4"><f>1</f><v>1</v></c><c><f>2</f></c></row>'
    )
    xml = _patched_sheet(tmp_path, _sheet(cells), {"B3": "a_x0041_b\r", "C3": 2, "C4": 4.5})
    assert xml == _sheet(
        b'<row r="3"><c><v>1</v></c><c t="str"><f>"a"&amp;"b"</f><v>a_x005F_x0041_b_x000D_</v>'
        b'</c><c s="2"><f>A3*2</f><v>2</v></c></row><row><c r="B4"><f>1</f><v>1</v></c>'
        b"<c><f>2</f><v>4.5</v></c></row>"
    )


def test_self_closing_and_empty_value_elements(tmp_path: Path) -> None:
    cells = b'<row r="1"><c r="A1" s="1" t="n"><f>1</f><v /></c><c r="B1"><f>2</f><v/></c></row>'
    xml = _patched_sheet(tmp_path, _sheet(cells), {"A1": "", "B1": False})
    assert xml == _sheet(
        b'<row r="1"><c r="A1" s="1" t="str"><f>1</f><v></v></c>'
        b'<c r="B1" t="b"><f>2</f><v>0</v></c></row>'
    )


def test_namespace_prefixed_cells(tmp_path: Path) -> None:
    cells = b'<x:row r="1"><x:c r="A1"><x:v>3</x:v></x:c><x:c r="B1" s="1" ><x:f>A1*2</x:f></x:c></x:row>'
    xml = _patched_sheet(tmp_path, _sheet(cells, b"x:"), {"B1": 6})
    assert b'<x:c r="B1" s="1" ><x:f>A1*2</x:f><x:v>6</x:v></x:c>' in xml


def test_absolute_relationship_target(tmp_path: Path) -> None:
    sheet_xml = _sheet(b'<row r="1"><c r="A1"><f>1+1</f><v>0</v></c></row>')
    book = _minimal_package(tmp_path / "abs.xlsx", sheet_xml, "/xl/worksheets/s.xml")
    report = patch_cached_values(book, tmp_path / "out.xlsx", {"Data": {"A1": 2}})
    assert report.patched == ("Data!A1",)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a zip at all", "not an xlsx file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, "encrypted"),
    ],
)
def test_refuses_non_zip_and_encrypted_files(tmp_path: Path, content: bytes, message: str) -> None:
    src = tmp_path / "secret.xlsx"
    src.write_bytes(content)
    with pytest.raises(WorkbookError, match=message) as caught:
        patch_cached_values(src, src, {"Data": {"A1": 1}})
    assert [(i.location, i.code) for i in caught.value.issues] == [("secret.xlsx", "KX810")]
    assert src.read_bytes() == content
    assert [p.name for p in tmp_path.iterdir()] == ["secret.xlsx"]


def _corpus_file(name: str) -> Path:
    """Return a corpus workbook, skipping the test when the corpus is not present."""
    path = CORPUS / "calamine" / name
    if not path.is_file():
        pytest.skip(f"corpus file {name} not available")
    return path


def test_corpus_password_protected_file_is_refused(tmp_path: Path) -> None:
    src = _corpus_file("tests_pass_protected.xlsx")
    with pytest.raises(WorkbookError) as caught:
        patch_cached_values(src, tmp_path / "out.xlsx", {"Sheet1": {"A1": 1}})
    assert caught.value.issues[0].code == "KX810"
    assert list(tmp_path.iterdir()) == []


def test_corpus_shared_formulas(tmp_path: Path) -> None:
    src = _corpus_file("tests_shared_formula_simple.xlsx")
    out = tmp_path / "out.xlsx"
    values: dict[str, CellValue] = {"B1": 20, "B2": 40.25, "B3": "sixty"}
    report = patch_cached_values(src, out, {"Sheet1": values})
    assert report.patched == ("Sheet1!B1", "Sheet1!B2", "Sheet1!B3")
    _assert_only_patched_cells_differ(src, out, {"xl/worksheets/sheet1.xml": set(values)})
    cached = openpyxl.load_workbook(out, data_only=True)["Sheet1"]
    assert [cached[ref].value for ref in values] == [20, 40.25, "sixty"]
    rows = (
        CalamineWorkbook.from_path(str(out))
        .get_sheet_by_name("Sheet1")
        .to_python(skip_empty_area=False)
    )
    assert [row[1] for row in rows] == [20.0, 40.25, "sixty"]
    # The shared formula itself survives: the followers still point at the master.
    assert openpyxl.load_workbook(out)["Sheet1"]["B3"].value == "=A3*2"


def test_corpus_nonstandard_namespace_prefix(tmp_path: Path) -> None:
    src = _corpus_file("tests_nonstandard-xml-ns-prefix.xlsx")
    out = tmp_path / "out.xlsx"
    # Its sheet is found through an "ns:id" attribute; it holds values only, no formulas.
    report = patch_cached_values(src, out, {"Sheet1": {"A2": 5}})
    assert [(i.location, i.code) for i in report.issues] == [
        ("tests_nonstandard-xml-ns-prefix.xlsx:Sheet1!A2", "KX814")
    ]
    _assert_only_patched_cells_differ(src, out, {})


def test_corpus_prefixed_sheet_with_a_formula_added(tmp_path: Path) -> None:
    original = _corpus_file("tests_richtext-namespaced.xlsx")
    src = tmp_path / "with_formula.xlsx"
    with zipfile.ZipFile(original) as package, zipfile.ZipFile(src, "w") as target:
        for info in package.infolist():
            data = package.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                old = b'<x:c r="H1" s="1" t="s"><x:v>0</x:v></x:c>'
                data = data.replace(old, b'<x:c r="H1" s="1"><x:f>1+1</x:f></x:c>')
            target.writestr(info, data)
    out = tmp_path / "out.xlsx"
    report = patch_cached_values(src, out, {"Sheet1": {"H1": 2}})
    assert report.ok
    _assert_only_patched_cells_differ(src, out, {"xl/worksheets/sheet1.xml": {"H1"}})
    with zipfile.ZipFile(out) as package:
        assert b'<x:c r="H1" s="1"><x:f>1+1</x:f><x:v>2</x:v></x:c>' in package.read(
            "xl/worksheets/sheet1.xml"
        )
    assert openpyxl.load_workbook(out, data_only=True)["Sheet1"]["H1"].value == 2
    rows = (
        CalamineWorkbook.from_path(str(out))
        .get_sheet_by_name("Sheet1")
        .to_python(skip_empty_area=False)
    )
    assert rows[0][7] == 2.0
    assert rows[0][0] == "inline string\nLine 2\nLine 3"


def _load_quietly(path: Path, data_only: bool = False) -> openpyxl.Workbook:
    """Load a workbook, ignoring openpyxl's warnings about features it drops."""
    with path.open("rb") as handle, warnings.catch_warnings():
        # Corpus files use extensions openpyxl does not keep; its warnings are not ours to fix.
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(handle, data_only=data_only)


def _formula_cells(path: Path) -> dict[str, list[str]]:
    """List the formula cells openpyxl sees in each worksheet."""
    book = _load_quietly(path)
    # _cells holds only stored cells; iter_rows would materialise a huge declared dimension.
    return {
        sheet.title: [c.coordinate for c in sheet._cells.values() if c.data_type == "f"]
        for sheet in book.worksheets
    }


def _corpus_with_formulas() -> list[tuple[Path, dict[str, list[str]]]]:
    """Corpus workbooks that openpyxl opens and that hold formulas, with their formula cells."""
    found = []
    for path in sorted(CORPUS.glob("*/*.xls[xm]")):
        try:
            cells = _formula_cells(path)
        except Exception:  # noqa: BLE001 - odd corpus files openpyxl cannot read are out of scope
            continue
        if any(cells.values()):
            found.append((path, cells))
    return found


@pytest.mark.slow
def test_corpus_formula_workbooks_patch_cleanly(tmp_path: Path) -> None:
    books = _corpus_with_formulas() if CORPUS.is_dir() else []
    if not books:
        pytest.skip("corpus not available")
    for index, (src, cells) in enumerate(books):
        request = {sheet: dict.fromkeys(refs, 1.5) for sheet, refs in cells.items() if refs}
        out = tmp_path / f"{index}{src.suffix}"
        report = patch_cached_values(src, out, request)
        assert report.issues == (), src.name
        cached = _load_quietly(out, data_only=True)
        for sheet, refs in request.items():
            # 1.5 in a date-formatted cell reads back as noon on 1900-01-01.
            read = {cached[sheet][ref].value for ref in refs}
            assert read <= {1.5, datetime(1900, 1, 1, 12)} and read, (src.name, sheet)
        with zipfile.ZipFile(src) as old, zipfile.ZipFile(out) as new:
            assert old.namelist() == new.namelist(), src.name
            for name in old.namelist():
                if name not in report.parts_rewritten:
                    assert old.read(name) == new.read(name), (src.name, name)


class _Unseekable:
    """A write-only stream, which makes zipfile use data descriptors as streaming writers do."""

    def __init__(self) -> None:
        self.buffer = BytesIO()

    def write(self, data: bytes) -> int:
        return self.buffer.write(data)

    def flush(self) -> None:
        pass


def test_source_with_data_descriptors(tmp_path: Path) -> None:
    book = _build_xlsxwriter(tmp_path / "plain.xlsx")
    stream = _Unseekable()
    with zipfile.ZipFile(book) as package, zipfile.ZipFile(stream, "w") as target:  # type: ignore[call-overload]
        for info in package.infolist():
            target.writestr(info, package.read(info))
    streamed = tmp_path / "streamed.xlsx"
    streamed.write_bytes(stream.buffer.getvalue())
    with zipfile.ZipFile(streamed) as package:
        assert all(info.flag_bits & 0x08 for info in package.infolist())
    out = tmp_path / "out.xlsx"
    assert patch_cached_values(streamed, out, VALUES).ok
    _assert_only_patched_cells_differ(streamed, out, _part_refs(VALUES))
    assert openpyxl.load_workbook(out, data_only=True)["Summary"]["B2"].value == 63000
