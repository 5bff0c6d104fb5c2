"""Workbooks edited in LibreOffice and Gnumeric come back clean, to the cent; tampering is found.

SPEC §7 "Workbooks come back from other applications". LibreOffice is driven through its UNO
bridge as a person would use it (one soffice for every workbook); Gnumeric by ``ssconvert
--recalc``. Every number checked after a round trip was computed by the application (cached
values are zeroed before Gnumeric recalculates; LibreOffice's totals are read from it live).
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kpixl.actuals import Actuals, Adjustments
from kpixl.engine.settle import settle
from kpixl.errors import Issue
from kpixl.model import Contract
from kpixl.workbook.build import build_workbook
from kpixl.workbook.foreign_inputs import quiet_rewritten_styles
from kpixl.workbook.layout import META, Layout
from kpixl.workbook.patch import patch_cached_values
from kpixl.workbook.recalc import recalc
from kpixl.workbook.template import template_schema
from kpixl.workbook.validate import validate_workbook
from tests.workbook.contracts import case
from tests.workbook.foreign import (
    TOTALS,
    Edit,
    assert_same_cells_as_openpyxl,
    formula_of,
    gnumeric_recalc,
    inline_text,
    libreoffice_edit,
    person_edit,
    replace_cell,
    uno_available,
)

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]

GENERATED = (1, 2, 3, 6, 10)
SETTLEMENTS = ("period", "cumulative")
NAMES = [f"acme-{s}" for s in SETTLEMENTS] + [
    f"gen-{i}-{s}" for i in GENERATED for s in SETTLEMENTS
]
CENT = 0.005


@dataclass(frozen=True)
class Case:
    """A contract with its actuals, the person's edit, and the workbook after the application."""

    contract: Contract
    actuals: Actuals
    adjustments: Adjustments | None
    edit: Edit
    path: Path
    totals: dict[str, Any]


def _contracts(spec_contract: Contract, spec_actuals: Actuals) -> dict[str, tuple[Any, ...]]:
    found: dict[str, tuple[Any, ...]] = {}
    for settlement in SETTLEMENTS:
        contract = spec_contract.model_copy(update={"settlement": settlement})
        found[f"acme-{settlement}"] = (contract, spec_actuals, None)
        for i in GENERATED:
            c = case(i)
            contract = c.contract.model_copy(update={"settlement": settlement})
            found[f"gen-{i}-{settlement}"] = (contract, c.actuals, c.adjustments)
    return found


def _engine(item: Case) -> dict[str, float]:
    result = settle(item.contract, item.edit.actuals, item.edit.adjustments)
    t = result.totals
    return {"KPIXL_TOTAL_BASE": t.base, "KPIXL_TOTAL_BONUS": t.bonus, "KPIXL_TOTAL_FEE": t.total}


def _cached_totals(path: Path, contract: Contract) -> dict[str, Any]:
    with quiet_rewritten_styles():  # Gnumeric writes no default style
        sheet = openpyxl.load_workbook(path, data_only=True)["Settlement"]
    layout = Layout(contract)
    keys = {"KPIXL_TOTAL_BASE": "base", "KPIXL_TOTAL_BONUS": "bonus", "KPIXL_TOTAL_FEE": "total"}
    return {name: sheet[layout.total(key)].value for name, key in keys.items()}  # type: ignore[arg-type]


def _errors(issues: list[Issue]) -> list[str]:
    return [str(i) for i in issues if i.severity == "error"]


@pytest.fixture(scope="module")
def libreoffice(
    tmp_path_factory: pytest.TempPathFactory, spec_contract: Contract, spec_actuals: Actuals
) -> dict[str, Case]:
    """Every workbook built, edited by a person in LibreOffice and stored as xlsx."""
    if not uno_available():
        pytest.fail("LibreOffice with python3-uno is needed: run scripts/install_libreoffice.sh")
    work = tmp_path_factory.mktemp("libreoffice")
    jobs, pending = [], {}
    for name, (contract, actuals, adjustments) in _contracts(spec_contract, spec_actuals).items():
        built = build_workbook(contract, actuals, adjustments, "native", out=work / f"{name}.xlsx")
        edit = person_edit(contract, actuals, adjustments)
        dst = work / "saved" / f"{name}.xlsx"
        jobs.append({"src": str(built), "dst": str(dst), "edits": edit.cells, "names": TOTALS})
        pending[name] = (contract, actuals, adjustments, edit, dst)
    udf = build_workbook(spec_contract, spec_actuals, None, "udf", out=work / "acme-udf.xlsx")
    jobs.append({"src": str(udf), "dst": str(work / "saved" / "acme-udf.xlsx"), "edits": []})
    results = libreoffice_edit(jobs, work / "driver")
    assert [r.get("error") for r in results] == [None] * len(jobs)
    found = {name: Case(*pending[name], results[i]["names"]) for i, name in enumerate(pending)}
    edit = found["acme-period"].edit
    saved = work / "saved" / "acme-udf.xlsx"
    found["udf"] = Case(spec_contract, spec_actuals, None, edit, saved, {})
    return found


@pytest.fixture(scope="module")
def gnumeric(
    tmp_path_factory: pytest.TempPathFactory, spec_contract: Contract, spec_actuals: Actuals
) -> dict[str, Case]:
    """Every workbook built with the edited actuals, caches zeroed, recalculated by Gnumeric."""
    if shutil.which("ssconvert") is None:
        pytest.fail("Gnumeric (ssconvert) is needed: run scripts/install_libreoffice.sh")
    work = tmp_path_factory.mktemp("gnumeric")
    found = {}
    for name, (contract, actuals, adjustments) in _contracts(spec_contract, spec_actuals).items():
        edit = person_edit(contract, actuals, adjustments)
        built = build_workbook(
            contract, edit.actuals, edit.adjustments, "native", out=work / f"{name}.xlsx"
        )
        cells = template_schema(contract).formula_cells()
        zeros = {"Settlement": {spec.ref: 0 for spec in cells if spec.sheet == "Settlement"}}
        zeroed = work / "zeroed" / f"{name}.xlsx"
        zeroed.parent.mkdir(exist_ok=True)
        assert patch_cached_values(built, zeroed, zeros).ok
        saved = gnumeric_recalc(zeroed, work / "saved" / f"{name}.xlsx")
        found[name] = Case(contract, actuals, adjustments, edit, saved, {})
    udf = build_workbook(spec_contract, spec_actuals, None, "udf", out=work / "acme-udf.xlsx")
    saved = gnumeric_recalc(udf, work / "saved" / "acme-udf.xlsx")
    found["udf"] = Case(spec_contract, spec_actuals, None, found["acme-period"].edit, saved, {})
    return found


@pytest.mark.parametrize("name", NAMES)
def test_libreoffice_edit_validates_and_totals_equal_the_engine(
    libreoffice: dict[str, Case], name: str
) -> None:
    item = libreoffice[name]
    assert _errors(validate_workbook(item.path)) == []
    engine = _engine(item)
    assert item.totals == pytest.approx(engine, abs=CENT)
    # The cached values LibreOffice stored agree with what it showed.
    assert _cached_totals(item.path, item.contract) == pytest.approx(engine, abs=CENT)


@pytest.mark.parametrize("name", NAMES)
def test_kpixl_recalc_of_the_libreoffice_file(
    libreoffice: dict[str, Case], name: str, tmp_path: Path
) -> None:
    item = libreoffice[name]
    out = tmp_path / "recalc.xlsx"
    report = recalc(item.path, out)
    assert report.ok, report.issues
    assert _cached_totals(out, item.contract) == pytest.approx(_engine(item), abs=CENT)
    # The file stays LibreOffice's: only worksheet parts changed (their cached values).
    with zipfile.ZipFile(item.path) as before, zipfile.ZipFile(out) as after:
        assert before.namelist() == after.namelist()
        assert all(part.startswith("xl/worksheets/sheet") for part in report.parts_rewritten)
        kept = [n for n in before.namelist() if n not in report.parts_rewritten]
        assert [n for n in kept if before.read(n) != after.read(n)] == []
    assert _errors(validate_workbook(out)) == []


@pytest.mark.parametrize("name", NAMES)
def test_gnumeric_round_trip_validates_and_totals_equal_the_engine(
    gnumeric: dict[str, Case], name: str
) -> None:
    item = gnumeric[name]
    assert _errors(validate_workbook(item.path)) == []
    assert _cached_totals(item.path, item.contract) == pytest.approx(_engine(item), abs=CENT)


@pytest.mark.parametrize("app", ["libreoffice", "gnumeric"])
def test_the_xml_reader_reads_every_saved_file_as_openpyxl(
    app: str, request: pytest.FixtureRequest
) -> None:
    """`kpixl recalc` reads inputs with its own XML reader: the same cells as openpyxl's."""
    for item in request.getfixturevalue(app).values():
        assert_same_cells_as_openpyxl(item.path)


@pytest.mark.parametrize("app", ["libreoffice", "gnumeric"])
def test_udf_workbook_without_the_addin_is_one_error(
    app: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    item = request.getfixturevalue(app)["udf"]
    issues = validate_workbook(item.path)
    errors = [i for i in issues if i.severity == "error"]
    assert [i.code for i in errors] == ["KX407"]
    assert "--formulas native" in errors[0].message
    assert "add-in" in errors[0].message
    # The formulas survived (with #NAME? as their values): kpixl recalc restores the values.
    out = tmp_path / "recalc.xlsx"
    assert recalc(item.path, out).ok
    assert _errors(validate_workbook(out)) == []


def _formula_edit(element: bytes) -> bytes:
    text = formula_of(element)
    return element.replace(text.encode(), (text + "+1").encode(), 1)


def _forged_cache(element: bytes) -> bytes:
    start, end = element.index(b"<v>") + 3, element.index(b"</v>")
    forged = str(float(element[start:end]) + 1000).encode()
    return element[:start] + forged + element[end:]


def _constant(ref: str) -> Callable[[bytes], bytes]:
    return lambda _element: f'<c r="{ref}"><v>12345</v></c>'.encode()


Tamper = tuple[list[tuple[str, str, Callable[[bytes], bytes]]], str, str]


def _tampers(contract: Contract) -> dict[str, Tamper]:
    """Each tamper kind: the cell edits, then where it must be reported and with which code."""
    layout = Layout(contract)
    total, bonus = layout.total("total"), layout.total("bonus")
    payout = layout.s(f"payout:{contract.kpis[0].code}", 1)
    fingerprint = next(
        spec.ref for spec in template_schema(contract).cells if spec.key == "meta.fingerprint"
    )
    second, third = contract.period_label(2), contract.period_label(3)
    swap = [
        ("Actuals", "A3", lambda _e: inline_text("A3", third)),
        ("Actuals", "A4", lambda _e: inline_text("A4", second)),
    ]
    forged_print = [(META, fingerprint, lambda _e: inline_text(fingerprint, "0" * 64))]
    return {
        "formula edited": ([("Settlement", total, _formula_edit)], f"Settlement!{total}", "KX403"),
        "constant over formula": (
            [("Settlement", payout, _constant(payout))],
            f"Settlement!{payout}",
            "KX401",
        ),
        "formula deleted": (
            [("Settlement", bonus, lambda _e: b"")],
            f"Settlement!{bonus}",
            "KX402",
        ),
        "forged cache": ([("Settlement", total, _forged_cache)], f"Settlement!{total}", "KX405"),
        "moved period row": (swap, "Actuals!A3", "KX317"),
        "edited fingerprint": (forged_print, META, "KX404"),
    }


TAMPERS = [
    "formula edited",
    "constant over formula",
    "formula deleted",
    "forged cache",
    "moved period row",
    "edited fingerprint",
]


@pytest.mark.parametrize("app", ["libreoffice", "gnumeric"])
@pytest.mark.parametrize("kind", TAMPERS)
def test_tampering_after_a_round_trip_is_found_at_its_cell(
    app: str, kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    item = request.getfixturevalue(app)["acme-period"]
    edits, where, code = _tampers(item.contract)[kind]
    tampered = item.path
    for n, (sheet, ref, change) in enumerate(edits):
        tampered = replace_cell(tampered, tmp_path / f"tampered{n}.xlsx", sheet, ref, change)
    issues = validate_workbook(tampered, label="t.xlsx")
    assert (f"t.xlsx:{where}", code) in {(i.location, i.code) for i in issues}, [
        str(i) for i in issues
    ]
