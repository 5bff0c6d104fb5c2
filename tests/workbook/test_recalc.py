"""recalc: new cached values from the workbook's own inputs; every other byte stays."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kpixl.actuals import Actuals
from kpixl.engine.settle import settle
from kpixl.model import Contract
from kpixl.workbook.build import build_workbook
from kpixl.workbook.layout import Layout
from kpixl.workbook.recalc import recalc
from udfs import kpixl_udfs

EXTRA_PARTS = {
    "customXml/item1.xml": b'<?xml version="1.0"?><data xmlns="urn:x">kept</data>',
    "xl/media/image1.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
    "xl/comments9.xml": b'<?xml version="1.0"?><comments xmlns="urn:y"><c>note</c></comments>',
    "xl/charts/chart9.xml": b'<?xml version="1.0"?><chartSpace xmlns="urn:z"/>',
    "xl/worksheets/sheet99.xml": b'<?xml version="1.0"?><worksheet xmlns="urn:w"/>',
}
ACTUALS_PART = "xl/worksheets/sheet5.xml"


def edit_package(src: Path, dst: Path, new_gmv: float) -> None:
    """Add extra parts and change period 6's gmv (Actuals!B7) in the sheet XML."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == ACTUALS_PART:
                data, count = re.subn(
                    rb'(<c r="B7"[^>]*><v>)[^<]*(</v>)',
                    rb"\g<1>" + str(new_gmv).encode() + rb"\g<2>",
                    data,
                )
                assert count == 1
            new.writestr(info, data)
        for name, data in EXTRA_PARTS.items():
            new.writestr(name, data)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {info.filename: package.read(info) for info in package.infolist()}


@pytest.mark.parametrize("engine", ["kpixl", "formulas"])
def test_recalc_patches_values_only(
    spec_contract: Contract, spec_actuals: Actuals, tmp_path: Path, engine: str
) -> None:
    built = build_workbook(spec_contract, spec_actuals, out=tmp_path / "built.xlsx")
    edited = tmp_path / "edited.xlsx"
    edit_package(built, edited, 300000.0)
    out = tmp_path / "out.xlsx"
    report = recalc(
        edited,
        out,
        engine=engine,  # type: ignore[arg-type]
        functions={n.upper(): getattr(kpixl_udfs, n) for n in kpixl_udfs.__all__},
    )
    assert report.ok, report.issues
    rows = [["period", *spec_actuals.columns]]
    for row in spec_actuals.rows:
        cells = dict(row.cells)
        if row.period == "2027-06":
            cells["gmv"] = 300000.0
        rows.append([row.period, *(cells[c] for c in spec_actuals.columns)])
    changed = Actuals.from_rows(rows[0], rows[1:], "changed.csv")
    expected = settle(spec_contract, changed).totals
    assert expected.total != settle(spec_contract, spec_actuals).totals.total
    values = openpyxl.load_workbook(out, data_only=True)["Settlement"]
    layout = Layout(spec_contract)
    for key in ("base", "bonus", "total"):
        assert values[layout.total(key)].value == pytest.approx(getattr(expected, key), abs=0.005)  # type: ignore[arg-type]
    before, after = parts(edited), parts(out)
    assert list(before) == list(after)
    rewritten = {name for name in before if before[name] != after[name]}
    assert rewritten <= {
        "xl/worksheets/sheet1.xml",
        "xl/worksheets/sheet2.xml",
        "xl/worksheets/sheet6.xml",
        "xl/worksheets/sheet7.xml",  # the Statement of 2027-06, the period changed
        "xl/worksheets/sheet8.xml",  # Pacing: formula cells, cached again
        "xl/worksheets/sheet9.xml",  # Review: the renewal facts of the changed settlement
    }
    assert "xl/worksheets/sheet6.xml" in rewritten
    for name, data in EXTRA_PARTS.items():
        assert after[name] == data


def test_recalc_in_place_is_atomic(
    spec_contract: Contract, spec_actuals: Actuals, tmp_path: Path
) -> None:
    built = build_workbook(spec_contract, spec_actuals, out=tmp_path / "q.xlsx")
    before = [
        [c.value for c in row]
        for row in openpyxl.load_workbook(built, data_only=True)["Settlement"]
    ]
    assert recalc(built).ok
    after = [
        [c.value for c in row]
        for row in openpyxl.load_workbook(built, data_only=True)["Settlement"]
    ]
    assert after == before  # same inputs: same values
    assert [p.name for p in tmp_path.iterdir()] == ["q.xlsx"]
