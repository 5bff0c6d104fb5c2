"""Workbooks as other applications save them: edit in LibreOffice (UNO), Gnumeric, raw XML."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from kpixl.actuals import Actuals, Adjustments
from kpixl.model import Contract
from kpixl.workbook.layout import ADJUSTMENT_HEADER, Layout, cell

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "lo_uno_driver.py"
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-uno belongs to it, not to the venv
TOTALS = ("KPIXL_TOTAL_BASE", "KPIXL_TOTAL_BONUS", "KPIXL_TOTAL_FEE")
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@dataclass(frozen=True)
class Edit:
    """What a person types into a built workbook, and the actuals it then holds."""

    cells: list[dict[str, Any]]
    actuals: Actuals
    adjustments: Adjustments


def person_edit(contract: Contract, actuals: Actuals, adjustments: Adjustments | None) -> Edit:
    """A new actual typed into the Actuals sheet and one adjustment row with reason and approver.

    The last known period's first metric gets a new value (or, when the last period is not
    known yet, the whole period is typed in); the adjustment corrects period 1's first metric.
    """
    existing = [] if adjustments is None else list(adjustments.rows)
    layout = Layout(contract, len(existing))
    columns = list(actuals.columns)
    rows = [[row.period, *(row.cells.get(c) for c in columns)] for row in actuals.rows]
    edits: list[dict[str, Any]] = []
    last = rows[-1]
    if all(v is None or v == "" for v in last[1:]):  # next period's actuals, typed in full
        previous = rows[-2]
        for c, column in enumerate(columns, start=1):
            value = round(float(previous[c]) * 1.05, 2)
            last[c] = value
            edits.append(_typed(layout, len(rows), column, value))
    else:
        value = round(float(last[1]) * 1.07 + 1, 2)
        last[1] = value
        edits.append(_typed(layout, len(rows), columns[0], value))
    taken = {(str(a.period), a.metric) for a in existing}
    p, c = next(
        (p, c)
        for p in range(1, len(rows))
        for c in range(1, len(columns) + 1)
        if (str(rows[p - 1][0]), columns[c - 1]) not in taken
    )
    value = round(float(rows[p - 1][c]) * 0.9, 2)
    new = [rows[p - 1][0], columns[c - 1], value, "late returns", "CFO"]
    row = layout.adjustment_header_row + 1 + len(existing)
    for c, value in enumerate(new):
        edits.append({"sheet": "Actuals", "cell": cell(row, c), "value": value})
    old = [[a.period, a.metric, a.value, a.reason, a.approved_by] for a in existing]
    return Edit(
        edits,
        Actuals.from_rows(["period", *columns], rows, "edited.csv"),
        Adjustments.from_rows(list(ADJUSTMENT_HEADER), [*old, new], "edited.adjustments.csv"),
    )


def _typed(layout: Layout, p: int, column: str, value: float) -> dict[str, Any]:
    where = cell(layout.actuals_header_row + p, layout.actual_col(column))
    return {"sheet": "Actuals", "cell": where, "value": value}


def libreoffice_edit(jobs: list[dict[str, Any]], work: Path) -> list[dict[str, Any]]:
    """Run the UNO driver once (one soffice) over every job; the results, in job order."""
    work.mkdir(parents=True, exist_ok=True)
    jobs_file, results_file = work / "jobs.json", work / "results.json"
    jobs_file.write_text(json.dumps(jobs), encoding="utf-8")
    done = subprocess.run(
        [SYSTEM_PYTHON, str(DRIVER), str(jobs_file), str(results_file)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if not results_file.is_file():
        raise RuntimeError(f"the UNO driver failed ({done.returncode}):\n{done.stderr}")
    results: list[dict[str, Any]] = json.loads(results_file.read_text(encoding="utf-8"))
    return results


def uno_available() -> bool:
    """Whether /usr/bin/python3 can import LibreOffice's uno module and soffice is installed."""
    if shutil.which("soffice") is None or not Path(SYSTEM_PYTHON).is_file():
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, check=False)
    return probe.returncode == 0


def gnumeric_recalc(src: Path, dst: Path) -> Path:
    """``ssconvert --recalc`` the workbook to xlsx, as Gnumeric saves it."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ssconvert", "--recalc", "--export-type=Gnumeric_Excel:xlsx2", str(src), str(dst)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dst


def sheet_part(package: zipfile.ZipFile, sheet: str) -> str:
    """The zip member of a worksheet, found through workbook.xml and its relationships."""
    book = ElementTree.fromstring(package.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    for item in book.iter(f"{_MAIN}sheet"):
        if item.get("name") == sheet:
            target = targets[item.get(_REL)].lstrip("/")
            return target if target.startswith("xl/") else "xl/" + target
    raise KeyError(sheet)


def rewrite_parts(src: Path, dst: Path, change: Callable[[str, bytes], bytes]) -> Path:
    """Copy a package, passing every member through ``change(name, data)``."""
    with zipfile.ZipFile(src) as package, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for info in package.infolist():
            out.writestr(info, change(info.filename, package.read(info.filename)))
    return dst


def cell_pattern(ref: str) -> re.Pattern[bytes]:
    """One ``<c r="REF">`` element, empty or not."""
    return re.compile(rb'<c r="' + ref.encode() + rb'"(?=[\s>/])[^>]*?(?:/>|>.*?</c>)', re.S)


def replace_cell(src: Path, dst: Path, sheet: str, ref: str, new: Callable[[bytes], bytes]) -> Path:
    """Copy a package with one cell element of one sheet replaced by ``new(old element)``."""
    with zipfile.ZipFile(src) as package:
        part = sheet_part(package, sheet)

    def change(name: str, data: bytes) -> bytes:
        if name != part:
            return data
        found = cell_pattern(ref).search(data)
        if found is None:
            raise KeyError(f"{sheet}!{ref} is not in {part}")
        return data[: found.start()] + new(found.group(0)) + data[found.end() :]

    return rewrite_parts(src, dst, change)


def inline_text(ref: str, text: str) -> bytes:
    """A cell holding text as an inline string."""
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def formula_of(element: bytes) -> str:
    """The formula text of a cell element."""
    found = re.search(rb"<f[^>]*>(.*?)</f>", element, re.S)
    if found is None:
        raise ValueError(f"no formula in {element!r}")
    return found.group(1).decode().replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")


def openpyxl_cells(path: Path) -> dict[str, dict[tuple[int, int], tuple[type, Any, str]]] | None:
    """Every cell openpyxl loads (formulas, not values): type, value and data type by sheet.

    None when openpyxl cannot load the file. Its warnings (styles another application rewrote,
    extensions it drops) are not findings here.
    """
    import warnings

    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(path, data_only=False)
    except Exception:
        return None
    return {
        ws.title: {key: (type(c.value), c.value, c.data_type) for key, c in ws._cells.items()}
        for ws in book.worksheets
    }


def assert_same_cells_as_openpyxl(path: Path, *, must_read: bool = True) -> None:
    """The XML reader gives every cell openpyxl gives, or declines (and openpyxl reads it).

    Args:
        path: the workbook.
        must_read: whether the XML reader must read it itself (kpixl's own workbooks and the
            foreign applications' saves); otherwise declining is allowed.
    """
    from kpixl.workbook.xml_cells import load_cells

    fast = load_cells(path)
    if fast is None:
        assert not must_read, f"{path.name}: the XML reader declined"
        return
    expected = openpyxl_cells(path)
    assert expected is not None, f"{path.name}: read by the XML reader, not by openpyxl"
    got = {
        sheet.title: {key: (type(c.value), c.value, c.data_type) for key, c in sheet._cells.items()}
        for sheet in fast.worksheets
    }
    assert list(got) == list(expected), path.name
    for title, cells in expected.items():
        assert got[title] == cells, f"{path.name}!{title}"
