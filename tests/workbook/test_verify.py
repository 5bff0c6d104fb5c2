"""The in-memory check of built workbooks: clean on what the builder writes, and every rule bites."""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpixl.workbook.build import BuiltWorkbook, build_bytes, fingerprint
from kpixl.workbook.layout import KPIS, META, SETTLEMENT
from kpixl.workbook.validate import validate_workbook
from kpixl.workbook.verify import verify_built
from tests.workbook.contracts import case

MODES = ("native", "udf")


def built_case(i: int, mode: str) -> BuiltWorkbook:
    c = case(i)
    return build_bytes(c.contract, c.actuals, c.adjustments, mode=mode)  # type: ignore[arg-type]


def with_part(built: BuiltWorkbook, part: str, change: Callable[[str], str]) -> BuiltWorkbook:
    """The same workbook with one zip member's XML changed."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(built.data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == part:
                changed = change(data.decode())
                assert changed != data.decode(), "the change must change something"
                data = changed.encode()
            target.writestr(info, data)
    return dataclasses.replace(built, data=out.getvalue())


def sheet_part(built: BuiltWorkbook, name: str) -> str:
    """XlsxWriter names sheet parts by position."""
    names = [sheet.name for sheet in built.schema.sheets]
    return f"xl/worksheets/sheet{names.index(name) + 1}.xml"


def first_formula(built: BuiltWorkbook, sheet: str) -> str:
    return next(spec.ref for spec in built.schema.formula_cells() if spec.sheet == sheet)


def codes_at(issues: list, where: str) -> list[str]:  # type: ignore[type-arg]
    return [issue.code for issue in issues if issue.location.endswith(where)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("i", range(8))
def test_built_workbooks_verify_clean_and_validate_clean(tmp_path: Path, i: int, mode: str) -> None:
    built = built_case(i, mode)
    assert verify_built(built, "x.xlsx") == []
    # The slow, independent validator agrees on the same bytes.
    path = tmp_path / "x.xlsx"
    path.write_bytes(built.data)
    assert [x for x in validate_workbook(path) if x.severity == "error"] == []


@pytest.mark.parametrize("mode", MODES)
def test_an_edited_formula_is_found_at_its_cell(mode: str) -> None:
    built = built_case(1, mode)
    ref = first_formula(built, SETTLEMENT)
    pattern = rf'(<c r="{ref}"[^>]*><f>)([^<]*)(</f>)'

    def edit(xml: str) -> str:
        return re.sub(pattern, lambda m: m.group(1) + "1+" + m.group(2) + m.group(3), xml)

    issues = verify_built(with_part(built, sheet_part(built, SETTLEMENT), edit), "x.xlsx")
    assert codes_at(issues, f"{SETTLEMENT}!{ref}") == ["KX403"]
    assert len(issues) == 1


def test_a_constant_over_a_formula_and_a_deleted_formula_are_found() -> None:
    built = built_case(2, "native")
    refs = [spec.ref for spec in built.schema.formula_cells() if spec.sheet == SETTLEMENT][:2]

    def edit(xml: str) -> str:
        xml = re.sub(rf'(<c r="{refs[0]}"[^>]*>)<f>[^<]*</f>', r"\1", xml)
        return re.sub(rf'<c r="{refs[1]}"[^>]*>.*?</c>', "", xml)

    issues = verify_built(with_part(built, sheet_part(built, SETTLEMENT), edit), "x.xlsx")
    assert codes_at(issues, f"!{refs[0]}") == ["KX401"]
    assert codes_at(issues, f"!{refs[1]}") == ["KX402"]


def test_a_cached_value_other_than_the_engines_is_found() -> None:
    built = built_case(3, "native")
    spec = next(
        s
        for s in built.schema.formula_cells()
        if isinstance(built.cells[s.sheet][s.ref][1], float) and built.cells[s.sheet][s.ref][1]
    )
    value = built.cells[spec.sheet][spec.ref][1]
    pattern = rf'(<c r="{spec.ref}"[^>]*><f>[^<]*</f><v>)([^<]*)(</v>)'

    def forge(xml: str) -> str:
        return re.sub(pattern, lambda m: m.group(1) + repr(value + 0.01) + m.group(3), xml)

    issues = verify_built(with_part(built, sheet_part(built, spec.sheet), forge), "x.xlsx")
    assert codes_at(issues, f"{spec.sheet}!{spec.ref}") == ["KX405"]
    assert len(issues) == 1


def test_a_changed_input_and_an_extra_cell_are_found() -> None:
    built = built_case(4, "native")
    weight = next(s for s in built.schema.cells if s.sheet == KPIS and s.key == "kpis[0].weight")

    def edit(xml: str) -> str:
        xml = re.sub(rf'(<c r="{weight.ref}"[^>]*><v>)[^<]*(</v>)', r"\g<1>0.999\2", xml)
        return xml.replace("</row>", '<c r="ZZ1"><v>7</v></c></row>', 1)

    issues = verify_built(with_part(built, sheet_part(built, KPIS), edit), "x.xlsx")
    assert codes_at(issues, f"{KPIS}!{weight.ref}") == ["KX320"]
    assert codes_at(issues, f"{KPIS}!ZZ1") == ["KX320"]


def test_a_removed_drop_down_list_is_found() -> None:
    built = built_case(0, "native")
    listed = next(s for s in built.schema.cells if s.sheet == KPIS and s.validation)

    def edit(xml: str) -> str:
        return re.sub(r"<dataValidations.*?</dataValidations>", "", xml)

    issues = verify_built(with_part(built, sheet_part(built, KPIS), edit), "x.xlsx")
    assert "KX316" in codes_at(issues, f"{KPIS}!{listed.ref}")
    assert {issue.code for issue in issues} == {"KX316"}


def test_sheets_names_and_fingerprint_are_checked() -> None:
    built = built_case(5, "udf")
    name = next(iter(built.schema.names))

    def edit(xml: str) -> str:
        xml = re.sub(rf'<definedName name="{name}">[^<]*</definedName>', "", xml)
        return xml.replace(f'<sheet name="{META}"', '<sheet name="Other"')

    issues = verify_built(with_part(built, "xl/workbook.xml", edit), "x.xlsx")
    messages = {(issue.code, issue.message) for issue in issues}
    assert ("KX313", f"defined name {name} is missing") in messages
    assert ("KX310", f"sheet {META} is missing") in messages
    assert ("KX312", "sheet is not part of the template") in messages

    print_ = fingerprint(built.schema, "udf")
    forged = with_part(built, "xl/sharedStrings.xml", lambda xml: xml.replace(print_, "0" * 64))
    issues = verify_built(forged, "x.xlsx")
    assert "KX404" in {issue.code for issue in issues}


def test_bytes_of_the_other_mode_fail() -> None:
    native, udf = built_case(6, "native"), built_case(6, "udf")
    issues = verify_built(dataclasses.replace(udf, data=native.data), "x.xlsx")
    assert {"KX403", "KX404"} <= {issue.code for issue in issues}


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 not a zip", b"<xml/>"])
def test_unreadable_bytes_are_one_issue(data: bytes) -> None:
    built = dataclasses.replace(built_case(0, "native"), data=data)
    assert [issue.code for issue in verify_built(built, "x.xlsx")] == ["KX721"]


def test_text_with_xml_and_ooxml_escapes_round_trips() -> None:
    c = case(1)
    tricky = 'A & B <Ltd> "q" _x0041_ tab\there \x01 trailing '
    contract = c.contract.model_copy(update={"client": tricky, "provider": " lead"})
    built = build_bytes(contract, c.actuals, c.adjustments)
    assert verify_built(built, "x.xlsx") == []
    assert tricky in [value for _formula, value in built.cells["Quote"].values()]


@pytest.fixture(scope="module")
def one_built() -> BuiltWorkbook:
    return built_case(7, "native")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_changed_value_is_found_at_its_cell(
    one_built: BuiltWorkbook, data: st.DataObject
) -> None:
    built = one_built
    valued = [
        (sheet, ref)
        for sheet, cells in built.cells.items()
        for ref, (_formula, value) in cells.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    sheet, ref = data.draw(st.sampled_from(valued))
    pattern = rf'(<c r="{ref}"[^>]*>(?:<f>[^<]*</f>)?<v>)([^<]*)(</v>)'

    def change(xml: str) -> str:
        return re.sub(pattern, lambda m: m.group(1) + repr(float(m.group(2)) + 1) + m.group(3), xml)

    issues = verify_built(with_part(built, sheet_part(built, sheet), change), "x.xlsx")
    assert [issue.location for issue in issues] == [f"x.xlsx:{sheet}!{ref}"]
    assert issues[0].code in ("KX320", "KX405")
