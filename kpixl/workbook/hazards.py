"""Hazard scan of an xlsx package's raw parts: external links, DDE, macros, risky formulas, text."""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from kpixl.errors import Issue, Severity, WorkbookError
from kpixl.workbook.ooxml import column_letters, column_number, rels_part, resolve_target
from kpixl.workbook.safety import NOT_A_PACKAGE, SafePackage

# Per sheet and code, this many cells are listed; the rest are counted in one summary issue.
MAX_CELLS_PER_CODE = 20
# A <dimension> may exceed the cells present by this factor plus this many cells before it lies.
DIMENSION_SLACK_FACTOR = 2
DIMENSION_SLACK_CELLS = 10_000

_INJECTION_STARTS = frozenset("=+-@\t\r")
_HARMLESS = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]$")
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_STRING = re.compile(r'"(?:[^"]|"")*"')
_QUOTED = re.compile(r"'(?:[^']|'')*'")
_FUNCTION = re.compile(
    r"(?<![\w.])(?:_xlfn\.|_xlws\.)?"
    r"(WEBSERVICE|CALL|REGISTER\.ID|REGISTER|FILTERXML|INDIRECT|HYPERLINK)\s*\(",
    re.IGNORECASE,
)
# [1]Sheet!A1 (an index into externalReferences), [Book.xlsx], drive letters, UNC paths, URLs.
_EXTERNAL = re.compile(
    r"(?<![\w\]\[])\[\d+\]|\[[^\[\]]*\.(?:xl\w*|csv|ods)\]|\b[A-Za-z]:\\|\\\\|://",
    re.IGNORECASE,
)
_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
_FUNCTION_CODES: dict[str, tuple[str, Severity]] = {
    "INDIRECT": ("KX607", "warning"),
    "HYPERLINK": ("KX608", "warning"),
}
_DANGEROUS_FUNCTION: tuple[str, Severity] = ("KX606", "error")
_T = TypeVar("_T")


@dataclass
class _Collector:
    """Issues of one scan, with repeated per-cell findings capped per sheet and code."""

    label: str
    issues: list[Issue] = field(default_factory=list)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, location: str, code: str, message: str, severity: Severity = "error") -> None:
        """Record a package-level or one-off finding."""
        self.issues.append(Issue(location, code, message, severity))

    def add_cell(self, sheet: str, cell: str, code: str, message: str, severity: Severity) -> None:
        """Record a cell finding unless this sheet already listed enough of this code."""
        key = (sheet, code)
        self.counts[key] = self.counts.get(key, 0) + 1
        if self.counts[key] <= MAX_CELLS_PER_CODE:
            self.add(f"{self.label}:{sheet}!{cell}", code, message, severity)

    def finish(self) -> list[Issue]:
        """Return the issues, with one summary per capped sheet and code."""
        for (sheet, code), count in self.counts.items():
            if count > MAX_CELLS_PER_CODE:
                extra = count - MAX_CELLS_PER_CODE
                self.add(
                    f"{self.label}:{sheet}", code, f"{extra} more cells with {code}", "warning"
                )
        return self.issues


@dataclass(frozen=True, slots=True)
class _Sheet:
    """A sheet as the workbook part declares it."""

    name: str
    state: str
    part: str | None
    kind: str


def scan_hazards(
    pkg: SafePackage, label: str | None = None, expected_hidden: Collection[str] = ()
) -> list[Issue]:
    """Report dangerous content of a package from its raw parts (no openpyxl).

    Args:
        pkg: a package open_package accepted.
        label: how locations name the file; defaults to the package's label.
        expected_hidden: sheet names allowed to be hidden (kpixl's own ``_kpixl``).

    Returns:
        Issues located as ``label`` (package), ``label:Sheet`` or ``label:Sheet!C5`` (cells).
    """
    out = _Collector(label or pkg.label)
    _scan_parts(pkg, out)
    sheets: list[_Sheet] = []
    names: list[tuple[str, str]] = []
    workbook = _guard(out, _workbook_part, pkg)
    if workbook is not None:
        parsed = _guard(out, _read_workbook, pkg, workbook)
        if parsed is not None:
            sheets, names = parsed
    worksheets = {
        sheet.part: sheet.name
        for sheet in sheets
        if sheet.kind == "worksheet" and sheet.part is not None
    }
    _guard(out, _scan_relationships, pkg, worksheets, out)
    _scan_sheets_declared(sheets, expected_hidden, out)
    _scan_defined_names(names, out)
    shared = _guard(out, _risky_shared_strings, pkg, workbook) or {}
    for part, name in worksheets.items():
        _guard(out, _scan_worksheet, pkg, part, name, shared, out)
    return out.finish()


def _guard(out: _Collector, step: Callable[..., _T], *args: object) -> _T | None:
    """Run one step of the scan; a part the package refuses becomes issues, not a crash."""
    try:
        return step(*args)
    except WorkbookError as exc:
        out.issues.extend(exc.issues)
        return None


def _local(tag: str) -> str:
    """Drop the namespace from a tag or attribute name (strict and transitional alike)."""
    return tag.rsplit("}", 1)[-1]


def _attr(elem: ET.Element, local: str) -> str | None:
    """Read an attribute by local name, whatever namespace prefix the writer chose."""
    for key, value in elem.attrib.items():
        if _local(key) == local:
            return value
    return None


def _source_of(rels: str) -> str:
    """Name the part a relationships part belongs to ('' for the package itself)."""
    folder, base = posixpath.split(rels)
    return posixpath.join(posixpath.dirname(folder), base.removesuffix(".rels"))


@dataclass(frozen=True, slots=True)
class _Relationship:
    """One Relationship element."""

    rid: str
    kind: str
    target: str
    external: bool


def _relationships(pkg: SafePackage, source: str) -> list[_Relationship]:
    """Read the relationships of a part, or none when it has no relationships part."""
    stored = pkg.find(rels_part(source))
    if stored is None:
        return []
    return [_relationship(elem) for elem in pkg.xml(stored) if _local(elem.tag) == "Relationship"]


def _relationship(elem: ET.Element) -> _Relationship:
    """Turn a Relationship element into a record."""
    return _Relationship(
        rid=elem.get("Id", ""),
        kind=elem.get("Type", "").rsplit("/", 1)[-1],
        target=elem.get("Target", ""),
        external=elem.get("TargetMode", "").casefold() == "external",
    )


def _workbook_part(pkg: SafePackage) -> str | None:
    """Find the workbook part from the package relationships (xl/workbook.xml by default)."""
    for rel in _relationships(pkg, ""):
        if rel.kind == "officeDocument" and not rel.external:
            stored = pkg.find(resolve_target("", rel.target))
            if stored is not None:
                return stored
    stored = pkg.find("xl/workbook.xml")
    if stored is None:
        raise WorkbookError.from_issues(
            [Issue(pkg.label, NOT_A_PACKAGE, "not a spreadsheet package: no workbook part")]
        )
    return stored


def _read_workbook(pkg: SafePackage, workbook: str) -> tuple[list[_Sheet], list[tuple[str, str]]]:
    """List the sheets (name, state, part, kind) and defined names (name, text)."""
    targets = {rel.rid: rel for rel in _relationships(pkg, workbook)}
    sheets: list[_Sheet] = []
    names: list[tuple[str, str]] = []
    for elem in pkg.xml(workbook).iter():
        tag = _local(elem.tag)
        if tag == "sheet":
            rel = targets.get(_attr(elem, "id") or "")
            part = (
                None
                if rel is None or rel.external
                else pkg.find(resolve_target(workbook, rel.target))
            )
            kind = rel.kind if rel is not None else "worksheet"
            sheets.append(_Sheet(elem.get("name", "?"), elem.get("state", "visible"), part, kind))
        elif tag == "definedName":
            names.append((elem.get("name", "?"), elem.text or ""))
    return sheets, names


def _scan_parts(pkg: SafePackage, out: _Collector) -> None:
    """Report macro, ActiveX, OLE, macro sheet, connection and external link parts."""
    folded = [(name.casefold(), name) for name in pkg.names]
    vba = [name for low, name in folded if low.endswith("vbaproject.bin")]
    for name in vba:
        out.add(out.label, "KX609", f"VBA macro project {name}")
    if not vba:
        _guard(out, _scan_content_types, pkg, out)
    activex = [
        name for low, name in folded if low.startswith("xl/activex/") and not low.endswith(".rels")
    ]
    if activex:
        out.add(out.label, "KX610", f"{len(activex)} ActiveX control parts ({activex[0]}, ...)")
    for low, name in folded:
        if low.startswith("xl/embeddings/"):
            out.add(out.label, "KX611", f"embedded OLE object {name}")
        elif low.startswith("xl/macrosheets/") and low.endswith(".xml"):
            out.add(out.label, "KX617", f"Excel 4.0 (XLM) macro sheet {name}")
        elif low == "xl/connections.xml":
            out.add(
                out.label,
                "KX618",
                "data connections (xl/connections.xml) can refresh "
                "the workbook from outside sources",
                "warning",
            )
        elif low.startswith("xl/externallinks/") and low.endswith(".xml"):
            _guard(out, _scan_external_link, pkg, name, out)


def _scan_content_types(pkg: SafePackage, out: _Collector) -> None:
    """Report a macro-enabled content type even when no VBA part is present."""
    stored = pkg.find("[Content_Types].xml")
    if stored is None:
        return
    for elem in pkg.xml(stored):
        kind = elem.get("ContentType", "")
        if "macroenabled" in kind.casefold() or "vbaproject" in kind.casefold():
            out.add(out.label, "KX609", f"macro-enabled content type {kind}")
            return


def _scan_external_link(pkg: SafePackage, part: str, out: _Collector) -> None:
    """Report one externalLink part: a DDE/OLE link or a link to another workbook."""
    targets = [rel.target for rel in _relationships(pkg, part) if rel.external]
    for elem in pkg.xml(part).iter():
        tag = _local(elem.tag)
        if tag == "ddeLink":
            service, topic = elem.get("ddeService"), elem.get("ddeTopic")
            out.add(out.label, "KX604", f"DDE link in {part}: service {service!r} topic {topic!r}")
            return
        if tag == "oleLink":
            out.add(out.label, "KX604", f"OLE link in {part} to {targets[:1] or '?'}")
            return
    where = targets[0] if targets else "an unnamed workbook"
    out.add(out.label, "KX601", f"external link {part} to {where[:200]}")


def _scan_relationships(pkg: SafePackage, worksheets: dict[str, str], out: _Collector) -> None:
    """Report relationships that point outside the package (TargetMode="External").

    Hyperlinks of worksheets are left to the worksheet scan, which knows their cells.
    """
    for name in pkg.names:
        low = name.casefold()
        if not low.endswith(".rels") or low.startswith("xl/externallinks/"):
            continue
        source = _source_of(name)
        sheet = worksheets.get(pkg.find(source) or "")
        where = out.label if sheet is None else f"{out.label}:{sheet}"
        for elem in pkg.xml(name):
            rel = _relationship(elem)
            if _local(elem.tag) != "Relationship" or not rel.external:
                continue
            if rel.kind != "hyperlink":
                out.add(
                    where,
                    "KX602",
                    f"{rel.kind} relationship of {source or 'package'} "
                    f"points outside the workbook: {rel.target[:200]}",
                )
            elif sheet is None:
                out.add(where, "KX603", f"hyperlink in {source} to {rel.target[:200]}", "warning")


def _scan_sheets_declared(
    sheets: list[_Sheet], expected_hidden: Collection[str], out: _Collector
) -> None:
    """Report hidden and very hidden sheets, and macro sheets declared in the workbook."""
    for sheet in sheets:
        where = f"{out.label}:{sheet.name}"
        if sheet.name in expected_hidden:
            continue
        if sheet.state == "hidden":
            out.add(where, "KX612", f"sheet {sheet.name!r} is hidden", "warning")
        elif sheet.state == "veryHidden":
            out.add(
                where,
                "KX613",
                f"sheet {sheet.name!r} is very hidden (only VBA or the XML can show it)",
                "warning",
            )


def _scan_defined_names(names: list[tuple[str, str]], out: _Collector) -> None:
    """Report defined names that point to other workbooks or use risky functions."""
    for name, text in names:
        where = f"{out.label}:{name}"
        if _EXTERNAL.search(_STRING.sub('""', text)):
            out.add(
                where, "KX614", f"defined name {name} points outside the workbook: {text[:200]}"
            )
        for code, message, severity in formula_hazards(text):
            if code != "KX619":
                out.add(where, code, f"defined name {name}: {message}", severity)


def formula_hazards(formula: str) -> list[tuple[str, str, Severity]]:
    """Find risky constructs in one formula's text (string literals and quoted names ignored).

    Args:
        formula: the formula as stored in the XML (no leading '=').

    Returns:
        (code, message, severity) per finding.
    """
    no_strings = _STRING.sub('""', formula)
    bare = _QUOTED.sub("''", no_strings)
    found: list[tuple[str, str, Severity]] = []
    if "|" in bare:
        found.append(("KX605", f"DDE-style reference in formula ={formula[:120]}", "error"))
    for function in sorted({match.group(1).upper() for match in _FUNCTION.finditer(bare)}):
        code, severity = _FUNCTION_CODES.get(function, _DANGEROUS_FUNCTION)
        found.append((code, f"formula uses {function}: ={formula[:120]}", severity))
    if _EXTERNAL.search(no_strings):
        found.append(("KX619", f"formula refers to another workbook: ={formula[:120]}", "error"))
    return found


def injection_risk(text: str) -> bool:
    """Say whether text would start a formula if exported to CSV and opened by a spreadsheet.

    A plain signed number (``-5``, ``+1e3``) or a lone sign is only a number or a placeholder
    when a spreadsheet reads it back, so it is not flagged.
    """
    match = _ESCAPE.match(text)
    first = chr(int(match.group(1), 16)) if match else text[:1]
    return first in _INJECTION_STARTS and not _HARMLESS.match(text)


def _ends(
    pkg: SafePackage, part: str
) -> Iterator[tuple[ET.Element, str, list[str], list[ET.Element]]]:
    """Stream (element, local tag, ancestor tags, ancestors) at each end tag, then drop it."""
    stack: list[ET.Element] = []
    tags: list[str] = []
    for event, elem in pkg.iterparse(part, ("start", "end")):
        if event == "start":
            stack.append(elem)
            tags.append(_local(elem.tag))
            continue
        stack.pop()
        tag = tags.pop()
        yield elem, tag, tags, stack
        # Detach what has been seen so memory stays bounded by one element, whatever the size.
        if stack:
            stack[-1].remove(elem)


def _risky_shared_strings(pkg: SafePackage, workbook: str | None) -> dict[int, str]:
    """Map shared-string indices whose text risks formula injection to that text."""
    part = None
    if workbook is not None:
        for rel in _relationships(pkg, workbook):
            if rel.kind == "sharedStrings" and not rel.external:
                part = pkg.find(resolve_target(workbook, rel.target))
    if part is None:
        return {}
    risky: dict[int, str] = {}
    index = 0
    text: list[str] = []
    for elem, tag, parents, _ in _ends(pkg, part):
        if tag == "t" and "rPh" not in parents and sum(map(len, text)) < 200:
            text.append(elem.text or "")
        elif tag == "si":
            joined = "".join(text)
            if injection_risk(joined):
                risky[index] = joined
            index += 1
            text = []
    return risky


@dataclass
class _CellState:
    """What the streaming scan has seen of the current cell and of the sheet so far."""

    formula: str | None = None
    value: str | None = None
    inline: list[str] = field(default_factory=list)
    last_row: int = 0
    column: int = 0
    max_row: int = 0
    max_column: int = 0
    dimension: str | None = None


def _scan_worksheet(
    pkg: SafePackage, part: str, sheet: str, shared: dict[int, str], out: _Collector
) -> None:
    """Stream one worksheet: formulas, injection-prone text and the <dimension> claim."""
    state = _CellState()
    links = {
        rel.rid: rel.target
        for rel in _relationships(pkg, part)
        if rel.external and rel.kind == "hyperlink"
    }
    for elem, tag, parents, ancestors in _ends(pkg, part):
        if tag == "c":
            row = _row_number(ancestors[-1] if parents and parents[-1] == "row" else None, state)
            _finish_cell(elem, _locate(elem.get("r"), row, state), state, sheet, shared, out)
        elif tag == "f":
            state.formula = elem.text
        elif tag == "v":
            state.value = elem.text
        elif tag == "t" and "is" in parents and "rPh" not in parents:
            state.inline.append((elem.text or "")[:200])
        elif tag == "row":
            state.last_row = _row_number(elem, state)
            state.max_row = max(state.max_row, state.last_row)
            state.column = 0
        elif tag == "dimension":
            state.dimension = elem.get("ref")
        elif tag == "hyperlink" and (_attr(elem, "id") or "") in links:
            target = links[_attr(elem, "id") or ""]
            out.add_cell(
                sheet, elem.get("ref", "?"), "KX603", f"hyperlink to {target[:200]}", "warning"
            )
    _check_dimension(state, sheet, out)


def _row_number(row: ET.Element | None, state: _CellState) -> int:
    """Number a row by its r attribute, or as the one after the previous row."""
    number = row.get("r", "") if row is not None else ""
    return int(number) if number.isdigit() else state.last_row + 1


def _finish_cell(
    elem: ET.Element,
    cell: str,
    state: _CellState,
    sheet: str,
    shared: dict[int, str],
    out: _Collector,
) -> None:
    """Check one cell once its children have been seen, then reset the cell state."""
    if state.formula:
        for code, message, severity in formula_hazards(state.formula):
            out.add_cell(sheet, cell, code, message, severity)
    text = _cell_text(elem.get("t", "n"), state, shared)
    if text is not None and injection_risk(text):
        out.add_cell(
            sheet,
            cell,
            "KX615",
            f"text {text[:40]!r} would start a formula when exported (formula injection)",
            "warning",
        )
    state.formula = None
    state.value = None
    state.inline = []


def _cell_text(kind: str, state: _CellState, shared: dict[int, str]) -> str | None:
    """Return a cell's text when it is typed text (shared, inline or plain str), else None."""
    if kind == "inlineStr":
        return "".join(state.inline)
    if kind == "s" and state.value is not None and state.value.strip().isdigit():
        return shared.get(int(state.value))
    if kind == "str" and state.formula is None:
        return state.value
    return None


def _locate(ref: str | None, row: int, state: _CellState) -> str:
    """Name a cell by its r attribute, or by position when the writer left r out."""
    match = _CELL.match(ref or "")
    if match:
        state.column = column_number(match.group(1))
        row = int(match.group(2))
    else:
        state.column += 1
    state.max_row = max(state.max_row, row)
    state.max_column = max(state.max_column, state.column)
    return f"{column_letters(state.column)}{row}"


def _check_dimension(state: _CellState, sheet: str, out: _Collector) -> None:
    """Warn when <dimension ref> claims far more cells than the sheet holds."""
    if not state.dimension:
        return
    corner = state.dimension.split(":")[-1]
    match = _CELL.match(corner)
    where = f"{out.label}:{sheet}"
    if match is None:
        out.add(where, "KX616", f"unreadable <dimension ref={state.dimension!r}>", "warning")
        return
    claimed = column_number(match.group(1)) * int(match.group(2))
    held = state.max_column * state.max_row
    if claimed > DIMENSION_SLACK_FACTOR * held + DIMENSION_SLACK_CELLS:
        out.add(
            where,
            "KX616",
            f"<dimension ref={state.dimension!r}> claims {claimed} cells but "
            f"the sheet holds data up to "
            f"{column_letters(state.max_column) or 'A'}{state.max_row}; "
            "readers that trust it allocate for nothing",
            "warning",
        )
