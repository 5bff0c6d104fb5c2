"""Check a workbook kpixl has just built, in memory, before it is written anywhere.

``kpixl batch`` writes thousands of workbooks; reading each one back with openpyxl (the
validator's way, for files of unknown origin) costs several times the build. This check reads
the built bytes directly instead: the zip, the sheet list, the defined names and every cell of
every sheet, parsed with expat, and holds them to the validator's structural and
formula-integrity rules (same issue codes): every sheet of the template in order, the defined
names, every template formula exactly as the template has it, the formula fingerprint, every
cached value equal to the engine's figure, every input and label as the builder meant it, data
validations in place, nothing else in the cells, and a fee equal to the pricing block's price
(KX125). It trusts what only kpixl writes (no hazard scan): use ``validate_workbook`` for any
file that came from elsewhere.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from kpixl.errors import Issue, Place
from kpixl.workbook.build import BuiltWorkbook
from kpixl.workbook.formula_tokens import same_formula, shared_formula
from kpixl.workbook.layout import META, META_KEY_COL, META_VALUE_COL, CellSpec, column
from kpixl.workbook.ooxml import resolve_target
from kpixl.workbook.safety import UNREADABLE
from kpixl.workbook.template import fingerprint, formula_text
from kpixl.workbook.validate import (
    CACHE_MISMATCH,
    CONSTANT_OVER_FORMULA,
    DEFINED_NAME,
    EXTRA_SHEET,
    FINGERPRINT,
    FORMULA_DELETED,
    FORMULA_EDITED,
    INPUT_CHANGED,
    MISSING_SHEET,
    SHEET_ORDER,
    VALIDATION_REMOVED,
    fee_against_price,
    same_value,
)

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_EPOCH = dt.datetime(1899, 12, 30)


@dataclass
class _Cell:
    type: str = "n"
    formula: str | None = None
    value: str | None = None
    shared: str | None = None  # the si of a shared formula's dependent, until expanded


@dataclass
class _Sheet:
    cells: dict[str, _Cell] = field(default_factory=dict)
    validated: set[str] = field(default_factory=set)


def verify_built(built: BuiltWorkbook, label: str) -> list[Issue]:
    """Every way the built bytes differ from the template and from what the builder wrote.

    Args:
        built: the workbook from ``build_bytes``.
        label: how locations name the file (its final path).

    Returns:
        The issues, all errors; an empty list means the bytes are the workbook intended.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(built.data)) as package:
            sheets, names, parts = _workbook(package)
            strings = _shared_strings(package)
            read = {name: _sheet(package.read(parts[name]), strings) for name in sheets}
    except (zipfile.BadZipFile, KeyError, expat.ExpatError, ValueError) as e:
        return [Issue.at(label, UNREADABLE, f"cannot read the built workbook: {e}")]
    issues = _check_structure(built, label, sheets, names)
    specs: dict[str, dict[str, CellSpec]] = {sheet.name: {} for sheet in built.schema.sheets}
    for spec in built.schema.cells:
        specs[spec.sheet][spec.ref] = spec
    for name, on_sheet in specs.items():
        if name in read:
            issues += _check_cells(built, label, name, on_sheet, read[name])
    return issues + fee_against_price(label, built.layout, built.scenario)


def _check_structure(
    built: BuiltWorkbook, label: str, sheets: dict[str, str], names: dict[str, str]
) -> list[Issue]:
    issues = []
    expected = [spec.name for spec in built.schema.sheets]
    for name in expected:
        if name not in sheets:
            issues.append(Issue.at(label, MISSING_SHEET, f"sheet {name} is missing"))
    for name in sheets:
        if name not in expected:
            where = Place(label, name)
            issues.append(where.issue(EXTRA_SHEET, "sheet is not part of the template"))
    if [name for name in sheets if name in expected] != [n for n in expected if n in sheets]:
        issues.append(Issue.at(label, SHEET_ORDER, f"sheets are out of order: {', '.join(sheets)}"))
    for spec in built.schema.sheets:
        state = sheets.get(spec.name, spec.state)
        if state != spec.state:
            issues.append(Place(label, spec.name).issue(EXTRA_SHEET, f"sheet is {state}"))
    for name, target in built.schema.names.items():
        got = names.get(name)
        if got is None or not same_formula(got, target):
            how = "is missing" if got is None else f"points at {got}, not {target}"
            issues.append(Issue.at(label, DEFINED_NAME, f"defined name {name} {how}"))
    for name in names.keys() - built.schema.names.keys():
        if name.startswith("_xlnm."):  # print area and titles: print setup, not results
            continue
        issues.append(Issue.at(label, DEFINED_NAME, f"defined name {name} is not in the template"))
    return issues


def _check_cells(
    built: BuiltWorkbook, label: str, name: str, specs: dict[str, CellSpec], sheet: _Sheet
) -> list[Issue]:
    planned = built.cells.get(name, {})
    issues = []
    for ref in sheet.cells.keys() - planned.keys():
        where = Place(label, name, ref)
        issues.append(where.issue(INPUT_CHANGED, "cell is not in the template"))
    for ref, (formula, value) in planned.items():
        where = Place(label, name, ref)
        cell = sheet.cells.get(ref)
        spec = specs.get(ref)
        if spec is not None and spec.kind == "formula":  # held to the template, not the plan
            issues += _check_formula(where, cell, formula_text(spec, built.mode), value)
        elif formula is not None:
            issues += _check_formula(where, cell, formula, value)
        elif cell is None or cell.formula is not None or not _same(cell, value):
            got = "nothing" if cell is None else repr(_shown(cell))
            issues.append(where.issue(INPUT_CHANGED, f"holds {got}, not {value!r}"))
        if spec is not None and spec.validation and ref not in sheet.validated:
            issues.append(where.issue(VALIDATION_REMOVED, "the list of allowed values is missing"))
    if name == META:
        issues += _check_fingerprint(built, label, sheet)
    return issues


def _check_formula(where: Place, cell: _Cell | None, expected: str, value: Any) -> list[Issue]:
    if cell is None or (cell.formula is None and cell.value is None):
        return [where.issue(FORMULA_DELETED, f"the template's formula {expected} is missing")]
    if cell.formula is None:
        message = f"the constant {_shown(cell)!r} stands where the formula {expected} belongs"
        return [where.issue(CONSTANT_OVER_FORMULA, message)]
    if not same_formula("=" + cell.formula, expected):
        message = f"formula ={cell.formula} differs from the template's {expected}"
        return [where.issue(FORMULA_EDITED, message)]
    if not _same(cell, value):
        message = f"cached value {_shown(cell)!r} differs from the engine's {value!r}"
        return [where.issue(CACHE_MISMATCH, message)]
    return []


def _check_fingerprint(built: BuiltWorkbook, label: str, sheet: _Sheet) -> list[Issue]:
    key_col, value_col = column(META_KEY_COL), column(META_VALUE_COL)
    keys = {_shown(c): ref for ref, c in sheet.cells.items() if ref.rstrip("0123456789") == key_col}
    ref = keys.get("fingerprint")
    got = None if ref is None else sheet.cells.get(value_col + ref[len(key_col) :])
    if got is None or _shown(got) != fingerprint(built.schema, built.mode):
        message = "the formula fingerprint is not the template's"
        return [Place(label, META).issue(FINGERPRINT, message)]
    return []


def _shown(cell: _Cell) -> Any:
    """A cell's value as Python: float, bool, text, or None when it has none."""
    if cell.value is None or (cell.value == "" and cell.type == "n"):
        return None
    if cell.type == "b":
        return cell.value == "1"
    if cell.type in ("s", "str", "inlineStr", "e"):
        return cell.value
    return float(cell.value)


def _same(cell: _Cell, want: Any) -> bool:
    got = _shown(cell)
    if isinstance(want, dt.date):
        moment = dt.datetime(want.year, want.month, want.day)
        want = (moment - _EPOCH) / dt.timedelta(days=1)
    if isinstance(want, str) and cell.type not in ("s", "str", "inlineStr", "e"):
        return want == "" and got is None
    return same_value(got, want)


def _workbook(package: zipfile.ZipFile) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(sheet name → state, defined name → target, sheet name → part path), in sheet order."""
    sheets: dict[str, str] = {}
    ids: dict[str, str] = {}
    names: dict[str, str] = {}
    current: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == f"{_MAIN} sheet":
            sheets[attrs["name"]] = attrs.get("state", "visible")
            ids[attrs["name"]] = attrs[f"{_REL} id"]
        elif tag == f"{_MAIN} definedName":
            current[:] = [attrs["name"]]

    def text(data: str) -> None:
        if current:
            names[current[0]] = names.get(current[0], "") + data

    def end(tag: str) -> None:
        if tag == f"{_MAIN} definedName":
            current.clear()

    _parse(package.read("xl/workbook.xml"), start, end, text)
    targets: dict[str, str] = {}

    def relationship(tag: str, attrs: dict[str, str]) -> None:
        if tag == f"{_PACKAGE_REL} Relationship":
            targets[attrs["Id"]] = resolve_target("xl/workbook.xml", attrs["Target"])

    _parse(package.read("xl/_rels/workbook.xml.rels"), relationship)
    return sheets, names, {name: targets[rid] for name, rid in ids.items()}


def _shared_strings(package: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in package.namelist():
        return []
    strings: list[str] = []
    parts: list[str] = []
    inside = [False]

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == f"{_MAIN} si":
            parts.clear()
        elif tag == f"{_MAIN} t":
            inside[0] = True

    def end(tag: str) -> None:
        if tag == f"{_MAIN} t":
            inside[0] = False
        elif tag == f"{_MAIN} si":
            strings.append(_unescape("".join(parts)))

    def text(data: str) -> None:
        if inside[0]:
            parts.append(data)

    _parse(package.read("xl/sharedStrings.xml"), start, end, text)
    return strings


_CELL, _FORMULA, _VALUE, _TEXT = (f"{_MAIN} {tag}" for tag in ("c", "f", "v", "t"))
_VALIDATION = f"{_MAIN} dataValidation"


class _SheetReader:
    """expat handlers that collect every cell of one worksheet (the inner loop of the check)."""

    def __init__(self, strings: list[str]) -> None:
        self.strings = strings
        self.sheet = _Sheet()
        self.cell = _Cell()
        self.ref = ""
        self.text = ""
        #: Shared formulas (Excel writes filled-down columns so): si -> (anchor, master text).
        self.masters: dict[str, tuple[str, str]] = {}

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == _CELL:
            self.cell, self.ref = _Cell(attrs.get("t", "n")), attrs["r"]
        elif tag == _FORMULA and attrs.get("t") == "shared":
            self.cell.shared = attrs.get("si", "")
        elif tag == _VALIDATION:
            self.sheet.validated.update(attrs.get("sqref", "").split())
        self.text = ""

    def end(self, tag: str) -> None:
        if tag == _CELL:
            self.sheet.cells[self.ref] = self.cell
        elif tag == _FORMULA:
            self.cell.formula = self.text
            if self.cell.shared is not None and self.text:
                self.masters.setdefault(self.cell.shared, (self.ref, self.text))
                self.cell.shared = None
        elif tag == _VALUE:
            cell = self.cell
            cell.value = self.strings[int(self.text)] if cell.type == "s" else self.text
        elif tag == _TEXT:  # inline strings
            self.cell.value = _unescape(self.text)

    def data(self, text: str) -> None:
        self.text += text


def _sheet(xml: bytes, strings: list[str]) -> _Sheet:
    reader = _SheetReader(strings)
    _parse(xml, reader.start, reader.end, reader.data)
    for ref, cell in reader.sheet.cells.items():
        if cell.shared is not None:  # a dependent: the master's formula, moved to this cell
            anchor, master = reader.masters.get(cell.shared, (ref, ""))
            cell.formula = shared_formula(master, anchor, ref) if master else None
    return reader.sheet


def _parse(
    xml: bytes,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    text: Callable[[str], None] | None = None,
) -> None:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    parser.Parse(xml, True)


def _unescape(text: str) -> str:
    """Undo the ``_xHHHH_`` escapes OOXML writes for control characters (and for itself)."""
    if "_x" not in text:
        return text
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


__all__ = ["verify_built"]
