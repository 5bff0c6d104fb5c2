"""What other applications write, crafted into a built workbook's XML (SPEC §7).

Excel's shared formulas, WPS's lying ``<dimension>`` and its custom property, Google Sheets'
missing ``<dimension>`` and ``__xludf.DUMMYFUNCTION``, and inputs saved in another spelling
(``=FALSE()``, numbers as text, date serials, 0/1 booleans, inline strings) read, validate and
recalc exactly like the original; a shared-formula dependent pointed at another group is found.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kpixl.actuals import Actuals
from kpixl.errors import Issue
from kpixl.model import Contract
from kpixl.workbook.build import BuiltWorkbook, build_bytes
from kpixl.workbook.formula_tokens import shared_formula
from kpixl.workbook.layout import Layout, cell
from kpixl.workbook.read import read_workbook_inputs
from kpixl.workbook.recalc import recalc
from kpixl.workbook.validate import validate_workbook
from kpixl.workbook.verify import verify_built
from tests.workbook.foreign import assert_same_cells_as_openpyxl

_CELL_F = re.compile(rb'<c r="([A-Z]+)(\d+)"([^>]*)><f>(.*?)</f>', re.S)
_DIMENSION = re.compile(rb"<dimension [^>]*/>")
_CALC_CHAIN = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<c r="AG8" i="6"/></calcChain>'
)
_KSO = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" \
xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">\
<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="KSOProductBuildVer">\
<vt:lpwstr>2052-12.1.0.16388</vt:lpwstr></property></Properties>"""


def _unescape(text: bytes) -> str:
    return (
        text.decode()
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&amp;", "&")
    )


def _rewrite(
    data: bytes, change: Callable[[str, bytes], bytes], add: dict[str, bytes] | None = None
) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as package,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in package.infolist():
            target.writestr(info, change(info.filename, package.read(info.filename)))
        for name, part in (add or {}).items():
            target.writestr(name, part)
    return out.getvalue()


def _share(xml: bytes) -> tuple[bytes, dict[str, list[str]]]:
    """Excel's way of saving filled-down columns: one master per run, dependents by si."""
    formulas = {
        (m.group(1).decode(), int(m.group(2))): _unescape(m.group(4)) for m in _CELL_F.finditer(xml)
    }
    groups: dict[str, list[str]] = {}
    role: dict[str, tuple[str, str | None]] = {}  # ref -> (si, ref range for the master)
    for (col, row), text in sorted(formulas.items()):
        if f"{col}{row}" in role:
            continue
        run = [row]
        while (col, run[-1] + 1) in formulas and shared_formula(
            text, f"{col}{row}", f"{col}{run[-1] + 1}"
        ) == formulas[(col, run[-1] + 1)]:
            run.append(run[-1] + 1)
        if len(run) < 2:
            continue
        si = str(len(groups))
        groups[si] = [f"{col}{r}" for r in run]
        role[f"{col}{row}"] = (si, f"{col}{row}:{col}{run[-1]}")
        for r in run[1:]:
            role[f"{col}{r}"] = (si, None)

    def shared(m: re.Match[bytes]) -> bytes:
        ref = (m.group(1) + m.group(2)).decode()
        if ref not in role:
            return m.group(0)
        si, span = role[ref]
        head = b'<c r="' + ref.encode() + b'"' + m.group(3) + b">"
        if span is not None:
            return head + f'<f t="shared" ref="{span}" si="{si}">'.encode() + m.group(4) + b"</f>"
        return head + f'<f t="shared" si="{si}"/>'.encode()

    return _CELL_F.sub(shared, xml), groups


def _settlement_part(built: BuiltWorkbook) -> str:
    names = [sheet.name for sheet in built.schema.sheets]
    return f"xl/worksheets/sheet{names.index('Settlement') + 1}.xml"


@pytest.fixture(scope="module")
def built(spec_contract: Contract, spec_actuals: Actuals) -> BuiltWorkbook:
    return build_bytes(spec_contract, spec_actuals, None, "native")


def _errors(issues: list[Issue]) -> list[str]:
    return [str(i) for i in issues if i.severity == "error"]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    """Write the bytes as book.xlsx in a folder of that name (issue locations name the file)."""
    path = tmp_path / name / "book.xlsx"
    path.parent.mkdir()
    path.write_bytes(data)
    assert_same_cells_as_openpyxl(path)  # the XML reader of `kpixl recalc` reads it as openpyxl
    return path


def test_shared_formulas_validate_clean(built: BuiltWorkbook, tmp_path: Path) -> None:
    part = _settlement_part(built)
    found: dict[str, list[str]] = {}

    def change(name: str, data: bytes) -> bytes:
        if name != part:
            return data
        xml, groups = _share(data)
        found.update(groups)
        return xml

    data = _rewrite(built.data, change)
    assert len(found) > 20  # every filled-down Settlement column became a shared group
    assert validate_workbook(_write(tmp_path, "shared.xlsx", data)) == []
    assert verify_built(dataclasses.replace(built, data=data), "shared.xlsx") == []


def test_a_dependent_pointed_at_another_group_is_found(
    built: BuiltWorkbook, tmp_path: Path
) -> None:
    part = _settlement_part(built)
    moved: list[str] = []

    def change(name: str, data: bytes) -> bytes:
        if name != part:
            return data
        xml, groups = _share(data)
        ref = groups["0"][1]  # the first dependent of group 0 now follows group 1
        moved.append(ref)
        pattern = rb'(<c r="' + ref.encode() + rb'"[^>]*><f t="shared" si=")0("/>)'
        xml, count = re.subn(pattern, rb"\g<1>1\g<2>", xml)
        assert count == 1
        return xml

    data = _rewrite(built.data, change)
    where = f"t.xlsx:Settlement!{moved[0]}"
    issues = validate_workbook(_write(tmp_path, "t", data), label="t.xlsx")
    assert (where, "KX403") in {(i.location, i.code) for i in issues}
    issues = verify_built(dataclasses.replace(built, data=data), "t.xlsx")
    assert (where, "KX403") in {(i.location, i.code) for i in issues}


def _wps(name: str, data: bytes) -> bytes:
    """WPS's lying dimension and custom property, with a calcChain and ca="1" on every formula."""
    if name.startswith("xl/worksheets/sheet"):
        return _DIMENSION.sub(b'<dimension ref="A1:A1"/>', data).replace(b"<f>", b'<f ca="1">')
    if name == "[Content_Types].xml":
        override = (
            b'<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>'
            b'<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/>'
        )
        return data.replace(b"</Types>", override + b"</Types>")
    if name == "xl/_rels/workbook.xml.rels":
        rel = b'<Relationship Id="rIdCalc" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/>'
        return data.replace(b"</Relationships>", rel + b"</Relationships>")
    if name == "_rels/.rels":
        rel = b'<Relationship Id="rIdKso" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties" Target="docProps/custom.xml"/>'
        return data.replace(b"</Relationships>", rel + b"</Relationships>")
    return data


def _google(fee_ref: str, part: str) -> Callable[[str, bytes], bytes]:
    def change(name: str, data: bytes) -> bytes:
        if name.startswith("xl/worksheets/sheet"):
            data = _DIMENSION.sub(b"", data)
        if name == part:
            m = re.search(rb'<c r="' + fee_ref.encode() + rb'"[^>]*><f>(.*?)</f><v>(.*?)</v>', data)
            assert m is not None
            text = _unescape(m.group(1)).replace('"', '""')
            wrapped = f'IFERROR(__xludf.DUMMYFUNCTION("{text}"),{m.group(2).decode()})'
            wrapped = wrapped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            data = data[: m.start(1)] + wrapped.encode() + data[m.end(1) :]
        return data

    return change


@pytest.mark.parametrize("app", ["wps", "google"])
def test_wps_and_google_traits_read_validate_and_recalc_like_the_original(
    app: str, built: BuiltWorkbook, tmp_path: Path, spec_contract: Contract
) -> None:
    original = _write(tmp_path, "original.xlsx", built.data)
    if app == "wps":
        data = _rewrite(
            built.data, _wps, {"docProps/custom.xml": _KSO, "xl/calcChain.xml": _CALC_CHAIN}
        )
    else:
        fee = Layout(spec_contract).total("total")
        data = _rewrite(built.data, _google(fee, _settlement_part(built)))
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            assert b"__xludf.DUMMYFUNCTION" in package.read(_settlement_part(built))
    crafted = _write(tmp_path, f"{app}.xlsx", data)
    assert read_workbook_inputs(crafted) == read_workbook_inputs(original)
    assert validate_workbook(crafted) == validate_workbook(original) == []
    assert recalc(crafted, tmp_path / "crafted-recalc.xlsx").ok
    assert recalc(original, tmp_path / "original-recalc.xlsx").ok
    assert _values(tmp_path / "crafted-recalc.xlsx") == _values(tmp_path / "original-recalc.xlsx")


def _values(path: Path) -> dict[str, list[Any]]:
    book = openpyxl.load_workbook(path, data_only=True)
    return {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in book.worksheets
    }


# Inputs in another application's spelling: (sheet, cell by layout, the cell element written).
def _input_cases(contract: Contract) -> dict[str, tuple[str, str, Callable[[str], bytes]]]:
    layout = Layout(contract)
    clawback = cell(layout.quote_row("clawback"), layout.quote_col)
    start = cell(layout.quote_row("start"), layout.quote_col)
    periods = cell(layout.quote_row("periods"), layout.quote_col)
    actual = cell(layout.actuals_header_row + 1, layout.actual_col(contract.kpis[0].columns[0]))
    base = cell(layout.quote_row("base"), layout.quote_col)
    return {
        "boolean as FALSE()": (
            "Quote",
            clawback,
            lambda r: f'<c r="{r}" t="b"><f>FALSE()</f><v>0</v></c>'.encode(),
        ),
        "boolean as 0": ("Quote", clawback, lambda r: f'<c r="{r}"><v>0</v></c>'.encode()),
        "boolean as text": (
            "Quote",
            clawback,
            lambda r: f'<c r="{r}" t="inlineStr"><is><t>FALSE</t></is></c>'.encode(),
        ),
        "date as serial": ("Quote", start, lambda r: f'<c r="{r}"><v>46388</v></c>'.encode()),
        "date as ISO text": (
            "Quote",
            start,
            lambda r: f'<c r="{r}" t="inlineStr"><is><t>2027-01-01</t></is></c>'.encode(),
        ),
        "integer as text": (
            "Quote",
            periods,
            lambda r: f'<c r="{r}" t="str"><v>6</v></c>'.encode(),
        ),
        "number as text": (
            "Actuals",
            actual,
            lambda r: f'<c r="{r}" t="inlineStr"><is><t>200000</t></is></c>'.encode(),
        ),
        "number with grouping": (
            "Actuals",
            actual,
            lambda r: f'<c r="{r}" t="inlineStr"><is><t>200,000.00</t></is></c>'.encode(),
        ),
        "number as =constant": (
            "Quote",
            base,
            lambda r: f'<c r="{r}"><f>9000</f><v>9000</v></c>'.encode(),
        ),
    }


INPUT_CASES = [
    "boolean as FALSE()",
    "boolean as 0",
    "boolean as text",
    "date as serial",
    "date as ISO text",
    "integer as text",
    "number as text",
    "number with grouping",
    "number as =constant",
]


@pytest.mark.parametrize("kind", INPUT_CASES)
def test_inputs_in_another_spelling_read_as_typed(
    kind: str, built: BuiltWorkbook, tmp_path: Path, spec_contract: Contract
) -> None:
    sheet, ref, element = _input_cases(spec_contract)[kind]
    names = [s.name for s in built.schema.sheets]
    part = f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"

    def change(name: str, data: bytes) -> bytes:
        if name != part:
            return data
        new, count = re.subn(
            rb'<c r="' + ref.encode() + rb'"(?=[\s>/])[^>]*?(?:/>|>.*?</c>)',
            element(ref),
            data,
            count=1,
            flags=re.S,
        )
        assert count == 1
        return new

    original = _write(tmp_path, "original.xlsx", built.data)
    crafted = _write(tmp_path, "crafted.xlsx", _rewrite(built.data, change))
    assert read_workbook_inputs(crafted) == read_workbook_inputs(original)
    assert _errors(validate_workbook(crafted)) == []
    assert recalc(crafted, tmp_path / "recalc.xlsx").ok


def test_a_constant_formula_reads_as_its_value(
    spec_contract: Contract, spec_actuals: Actuals, tmp_path: Path
) -> None:
    built = build_bytes(spec_contract, spec_actuals, None, "native")
    layout = Layout(spec_contract)
    clawback = cell(layout.quote_row("clawback"), layout.quote_col)

    def change(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        return re.sub(
            rb'<c r="' + clawback.encode() + rb'"[^>]*><v>0</v></c>',
            f'<c r="{clawback}" t="b"><f>TRUE()</f><v>1</v></c>'.encode(),
            data,
        )

    crafted = _write(tmp_path, "crafted.xlsx", _rewrite(built.data, change))
    contract, *_rest = read_workbook_inputs(crafted)
    assert spec_contract.clawback is False
    assert contract.clawback is True


def test_the_batch_check_compares_formulas_by_meaning(built: BuiltWorkbook, tmp_path: Path) -> None:
    part = _settlement_part(built)

    def libreoffice_spelling(name: str, data: bytes) -> bytes:
        if name != part:
            return data
        assert b",FALSE)" in data
        return data.replace(b",FALSE)", b",FALSE())").replace(b"<f>", b'<f aca="false">')

    data = _rewrite(built.data, libreoffice_spelling)
    assert verify_built(dataclasses.replace(built, data=data), "lo.xlsx") == []
    assert validate_workbook(_write(tmp_path, "lo", data)) == []


def test_text_that_looks_like_a_constant_formula_stays_text(
    built: BuiltWorkbook, tmp_path: Path, spec_contract: Contract
) -> None:
    layout = Layout(spec_contract)
    client = cell(layout.quote_row("client"), layout.quote_col)

    def change(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        element = f'<c r="{client}" t="inlineStr"><is><t>="ACME"</t></is></c>'.encode()
        pattern = rb'<c r="' + client.encode() + rb'"(?=[\s>/])[^>]*?(?:/>|>.*?</c>)'
        return re.sub(pattern, element, data, count=1, flags=re.S)

    crafted = _write(tmp_path, "text", _rewrite(built.data, change))
    contract, *_rest = read_workbook_inputs(crafted)
    assert contract.client == '="ACME"'
