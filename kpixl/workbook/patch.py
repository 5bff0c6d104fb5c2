"""Write new cached values into formula cells of an xlsx file, leaving every other byte alone.

The sheet XML is edited textually, one ``<c>`` element at a time, so everything a user added
(charts, images, comments, styles, extra sheets, custom XML, VBA) survives untouched. Zip
members that are not patched are copied as raw compressed bytes with their original ZipInfo.
"""

from __future__ import annotations

import copy
import math
import re
import struct
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from kpixl.atomic import atomic_write
from kpixl.errors import Issue, WorkbookError
from kpixl.workbook.ooxml import (
    column_letters,
    column_number,
    escape_text,
    rels_part,
    resolve_target,
)

CellValue = float | int | str | bool | None

# Error literals Excel stores with t="e"; any other string is cached as text (t="str").
EXCEL_ERRORS = frozenset(
    {
        "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
        "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
    }
)  # fmt: skip

CODE_NOT_A_PACKAGE = "KX810"
CODE_BROKEN_PACKAGE = "KX811"
CODE_UNKNOWN_SHEET = "KX812"
CODE_MISSING_CELL = "KX813"
CODE_NOT_A_FORMULA = "KX814"
CODE_UNSTORABLE_VALUE = "KX815"
CODE_BAD_REFERENCE = "KX816"

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_LOCAL_HEADER = struct.Struct("<4s22xHH")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_FLAG_ENCRYPTED = 0x1
_FLAG_DATA_DESCRIPTOR = 0x8
_COPY_CHUNK = 1 << 20
_EXACT_INT_LIMIT = 2**53
_OFFICE_DOCUMENT = "/officeDocument"
_WORKSHEET = "/worksheet"

_PFX = rb"(?:[A-Za-z_][\w.-]*:)?"
_SHEET_DATA = re.compile(rb"<" + _PFX + rb"sheetData(?=[\s/>])[^>]*>")
_SHEET_DATA_END = re.compile(rb"</" + _PFX + rb"sheetData\s*>")
_ROW_OR_CELL = re.compile(
    rb"<" + _PFX + rb"(?:(?P<row>row)(?=[\s/>])[^>]*>"
    rb"|c(?=[\s/>])[^>]*?(?:/>|>.*?</" + _PFX + rb"c\s*>))",
    re.S,
)
_CELL_START = re.compile(rb"<(" + _PFX + rb")c([^>]*?)(/?)>")
_REF_PATTERN = re.compile(r"[A-Z]{1,3}[1-9][0-9]{0,6}")
_REF_PARTS = re.compile(rb"([A-Za-z]{1,3})([0-9]+)")
_XSTRING_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_WORKBOOK_START = re.compile(rb"<(" + _PFX + rb")workbook(?=[\s/>])")
_CALC_PR = re.compile(rb"<(" + _PFX + rb")calcPr(?=[\s/>])([^>]*?)(/?)>")
# CT_Workbook children that must follow calcPr, in schema order.
_AFTER_CALC_PR = (
    b"oleSize", b"customWorkbookViews", b"pivotCaches", b"smartTagPr", b"smartTagTypes",
    b"webPublishing", b"fileRecoveryPr", b"webPublishObjects", b"extLst",
)  # fmt: skip

# (t attribute or None for a number, text of <v> or None for "no cached value")
_Encoded = tuple[bytes | None, bytes | None]


@dataclass(frozen=True, slots=True)
class PatchReport:
    """What a patch run changed and what it could not do."""

    patched: tuple[str, ...]
    issues: tuple[Issue, ...]
    parts_rewritten: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when every requested cell was patched."""
        return not self.issues


@dataclass(frozen=True, slots=True)
class _SheetPlan:
    """The cells to patch in one worksheet part."""

    sheet: str
    part: str
    cells: dict[bytes, _Encoded]


def _child_pattern(local: bytes) -> re.Pattern[bytes]:
    """Match one child element of <c>, with any namespace prefix, empty or not."""
    return re.compile(
        rb"<" + _PFX + local + rb"(?=[\s/>])([^>]*?)(?:/>|>.*?</" + _PFX + local + rb"\s*>)",
        re.S,
    )


_F_ELEMENT = _child_pattern(b"f")
_V_ELEMENT = _child_pattern(b"v")
_IS_ELEMENT = _child_pattern(b"is")


def _attribute_pattern(name: bytes) -> re.Pattern[bytes]:
    """Match one attribute by exact name, with the whitespace before it."""
    return re.compile(rb"(\s+)" + name + rb"\s*=\s*(\"[^\"]*\"|'[^']*')")


_T_ATTR = _attribute_pattern(b"t")
_R_ATTR = _attribute_pattern(b"r")
_REF_ATTR = _attribute_pattern(b"ref")
_FULL_CALC_ATTR = _attribute_pattern(b"fullCalcOnLoad")


def _attribute(attrs: bytes, pattern: re.Pattern[bytes]) -> bytes | None:
    """Return an attribute's value from a start tag's attribute text, or None."""
    match = pattern.search(attrs)
    return match.group(2)[1:-1] if match else None


def _set_attribute(
    attrs: bytes, pattern: re.Pattern[bytes], name: bytes, value: bytes | None
) -> bytes:
    """Set, replace or remove one attribute, leaving the others byte-identical."""
    match = pattern.search(attrs)
    if match:
        if value is None:
            return attrs[: match.start()] + attrs[match.end() :]
        new = match.group(1) + name + b'="' + value + b'"'
        return attrs[: match.start()] + new + attrs[match.end() :]
    if value is None:
        return attrs
    body = attrs.rstrip()
    return body + b" " + name + b'="' + value + b'"' + attrs[len(body) :]


def _xml_text(text: str) -> bytes:
    """Escape text for element content the way OOXML expects (ST_Xstring)."""
    # A literal "_x0041_" would be read back as "A"; Excel escapes its underscore as _x005F_.
    text = _XSTRING_ESCAPE.sub(lambda m: "_x005F" + m.group(0), text)
    text = _CONTROL_CHARS.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    return escape_text(text).encode("utf-8")


def _number_text(value: float) -> bytes:
    """Format a number as the shortest text that reads back to the same double."""
    if value.is_integer() and abs(value) < _EXACT_INT_LIMIT:
        return str(int(value)).encode("ascii")
    return repr(value).encode("ascii")


def _encode(value: object) -> _Encoded:
    """Turn a cell value into the t attribute and <v> text; ValueError when impossible."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return b"b", b"1" if value else b"0"
    if isinstance(value, int):
        return None, str(value).encode("ascii")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a number Excel can store")
        return None, _number_text(value)
    if isinstance(value, str):
        if value in EXCEL_ERRORS:
            return b"e", value.encode("ascii")
        return b"str", _xml_text(value)
    raise ValueError(f"a {type(value).__name__} cannot be stored as a cached value")


def _coordinates(ref: bytes) -> tuple[int, int] | None:
    """Split a cell reference into (row, column), or None when it is not one."""
    match = _REF_PARTS.fullmatch(ref.replace(b"$", b""))
    if not match:
        return None
    return int(match.group(2)), column_number(match.group(1).decode("ascii"))


def _array_range(cell: bytes) -> tuple[int, int, int, int] | None:
    """Return (row1, col1, row2, col2) when the cell is the anchor of an array formula."""
    formula = _F_ELEMENT.search(cell)
    if not formula or _attribute(formula.group(1), _T_ATTR) != b"array":
        return None
    ref = _attribute(formula.group(1), _REF_ATTR)
    if ref is None:
        return None
    first, _, last = ref.partition(b":")
    start, end = _coordinates(first), _coordinates(last or first)
    if start is None or end is None:
        return None
    return start[0], start[1], end[0], end[1]


def _in_ranges(ref: bytes, ranges: list[tuple[int, int, int, int]]) -> bool:
    """Tell whether a cell lies inside one of the array-formula ranges."""
    point = _coordinates(ref) if ranges else None
    if point is None:
        return False
    row, col = point
    return any(r1 <= row <= r2 and c1 <= col <= c2 for r1, c1, r2, c2 in ranges)


def _patch_cell(cell: bytes, encoded: _Encoded, array_member: bool) -> bytes | None:
    """Rewrite one <c> element's t attribute and <v>; None when it holds no formula."""
    start = _CELL_START.match(cell)
    if start is None:
        return None
    prefix, attrs, self_closing = start.group(1), start.group(2), start.group(3) == b"/"
    close_at = len(cell) if self_closing else cell.rindex(b"</")
    body = cell[start.end() : close_at]
    formula = _F_ELEMENT.search(body)
    if formula is None and not array_member:
        return None
    kind, text = encoded
    new_v = b"" if text is None else b"<" + prefix + b"v>" + text + b"</" + prefix + b"v>"
    edits: list[tuple[int, int, bytes]] = []
    cached = _V_ELEMENT.search(body)
    if cached:
        edits.append((cached.start(), cached.end(), new_v))
    else:
        at = formula.end() if formula else 0
        edits.append((at, at, new_v))
    inline = _IS_ELEMENT.search(body)
    if inline:
        # The cached value now lives in <v>; an inline string would contradict the new t.
        edits.append((inline.start(), inline.end(), b""))
    for begin, end, replacement in sorted(edits, reverse=True):
        body = body[:begin] + replacement + body[end:]
    attrs = _set_attribute(attrs, _T_ATTR, b"t", kind)
    if self_closing and not body:
        return b"<" + prefix + b"c" + attrs + b"/>"
    closing = b"</" + prefix + b"c>" if self_closing else cell[close_at:]
    return b"<" + prefix + b"c" + attrs + b">" + body + closing


def _implicit_ref(row: int, previous: bytes | int) -> tuple[bytes, int]:
    """Name a cell written without r: the column after the previous cell in the same row."""
    if isinstance(previous, int):
        column = previous
    else:
        point = _coordinates(previous)
        column = point[1] if point else 0
    return (column_letters(column + 1) + str(row)).encode("ascii"), column + 1


def _patch_sheet_xml(
    xml: bytes, cells: Mapping[bytes, _Encoded]
) -> tuple[bytes, dict[bytes, bool]]:
    """Patch the cached values of some cells in one worksheet's XML.

    Returns the new XML and, for every requested cell found, whether it was patched (False:
    it holds no formula). Cells absent from the result do not exist in the sheet.
    """
    opening = _SHEET_DATA.search(xml)
    if opening is None or opening.group(0).endswith(b"/>"):
        return xml, {}
    closing = _SHEET_DATA_END.search(xml, opening.end())
    end = closing.start() if closing else len(xml)
    pieces: list[bytes] = []
    found: dict[bytes, bool] = {}
    arrays: list[tuple[int, int, int, int]] = []
    last, row = 0, 0
    previous: bytes | int = 0  # the previous cell's reference, or its column number if implicit
    for match in _ROW_OR_CELL.finditer(xml, opening.end(), end):
        tag = match.group(0)
        ref = _attribute(tag[: tag.find(b">")], _R_ATTR)
        if match.group("row") is not None:
            row, previous = (int(ref) if ref else row + 1), 0
            continue
        if ref is None:
            ref, previous = _implicit_ref(row, previous)
        else:
            ref = previous = ref.upper()
        if b"array" in tag and (span := _array_range(tag)):
            arrays.append(span)
        if ref not in cells:
            continue
        patched = _patch_cell(tag, cells[ref], _in_ranges(ref, arrays))
        found[ref] = found.get(ref, False) or patched is not None
        if patched is not None:
            pieces += [xml[last : match.start()], patched]
            last = match.end()
    pieces.append(xml[last:])
    return b"".join(pieces), found


def _fail(label: str, message: str, code: str = CODE_BROKEN_PACKAGE) -> WorkbookError:
    """Build the WorkbookError for a package that cannot be patched."""
    issue = Issue(label, code, message)
    return WorkbookError(str(issue), [issue])


@contextmanager
def _open_package(src: Path, label: str) -> Iterator[zipfile.ZipFile]:
    """Open an xlsx package for reading, refusing encrypted and non-zip files."""
    try:
        with src.open("rb") as handle:
            head = handle.read(len(_OLE2_MAGIC))
    except OSError as error:
        raise _fail(label, f"cannot be read: {error}", CODE_NOT_A_PACKAGE) from error
    if head == _OLE2_MAGIC:
        message = "is encrypted (password-protected) or a legacy .xls file; save it as .xlsx"
        raise _fail(label, message, CODE_NOT_A_PACKAGE)
    try:
        package = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError) as error:
        raise _fail(label, "is not an xlsx file (not a zip package)", CODE_NOT_A_PACKAGE) from error
    with package:
        if any(info.flag_bits & _FLAG_ENCRYPTED for info in package.infolist()):
            raise _fail(label, "has encrypted zip entries", CODE_NOT_A_PACKAGE)
        yield package


def _read_xml(package: zipfile.ZipFile, part: str, label: str) -> Element:
    """Parse one small package part (rels, workbook) safely."""
    try:
        root: Element = SafeET.fromstring(package.read(part))
    except KeyError as error:
        raise _fail(label, f"has no part {part}") from error
    except (SafeET.ParseError, DefusedXmlException, zipfile.BadZipFile) as error:
        raise _fail(label, f"part {part} is not readable XML: {error}") from error
    return root


def _local(tag: str) -> str:
    """Strip the {namespace} from an ElementTree tag or attribute name."""
    return tag.rpartition("}")[2]


def _relationships(package: zipfile.ZipFile, rels: str, label: str) -> dict[str, tuple[str, str]]:
    """Read a .rels part into {Id: (Type, Target)}, skipping external targets."""
    found: dict[str, tuple[str, str]] = {}
    for element in _read_xml(package, rels, label).iter():
        if _local(element.tag) != "Relationship" or element.get("TargetMode") == "External":
            continue
        found[element.get("Id", "")] = (element.get("Type", ""), element.get("Target", ""))
    return found


def _actual_name(package: zipfile.ZipFile, part: str, label: str) -> str:
    """Find a part's stored name; OPC part names compare case-insensitively."""
    wanted = part.lower()
    for name in package.namelist():
        if name.lower() == wanted:
            return name
    raise _fail(label, f"has no part {part}")


def _workbook_part(package: zipfile.ZipFile, label: str) -> str:
    """Find the workbook part through the package relationships."""
    for kind, target in _relationships(package, "_rels/.rels", label).values():
        if kind.endswith(_OFFICE_DOCUMENT):
            return _actual_name(package, resolve_target("", target), label)
    raise _fail(label, "has no workbook (no officeDocument relationship)")


def _sheet_parts(package: zipfile.ZipFile, workbook: str, label: str) -> dict[str, str | None]:
    """Map each sheet name to its worksheet part (None for chart and dialog sheets)."""
    rels = _relationships(package, rels_part(workbook), label)
    sheets: dict[str, str | None] = {}
    for element in _read_xml(package, workbook, label).iter():
        if _local(element.tag) != "sheet":
            continue
        # The relationship id attribute may carry any namespace prefix (r:id, ns:id ...).
        rel_id = next(
            (v for k, v in element.attrib.items() if k.startswith("{") and _local(k) == "id"), ""
        )
        kind, target = rels.get(rel_id, ("", ""))
        part = _actual_name(package, resolve_target(workbook, target), label) if target else None
        sheets[element.get("name", "")] = part if kind.endswith(_WORKSHEET) else None
    return sheets


def _find_sheet(sheets: Mapping[str, str | None], name: str) -> str | None:
    """Match a sheet name exactly, else case-insensitively as Excel does."""
    if name in sheets:
        return name
    folded = name.casefold()
    return next((known for known in sheets if known.casefold() == folded), None)


def _plan(
    values: Mapping[str, Mapping[str, CellValue]],
    sheets: Mapping[str, str | None],
    label: str,
) -> tuple[list[_SheetPlan], list[Issue]]:
    """Check the request against the workbook and encode every value once."""
    plans: dict[str, _SheetPlan] = {}
    issues: list[Issue] = []
    for sheet_name, cells in values.items():
        sheet = _find_sheet(sheets, sheet_name)
        part = sheets.get(sheet) if sheet is not None else None
        if sheet is None or part is None:
            what = "is not a worksheet" if sheet is not None else "does not exist"
            issues.append(Issue(f"{label}:{sheet_name}", CODE_UNKNOWN_SHEET, f"sheet {what}"))
            continue
        # Two spellings of one sheet name ("Fees", "FEES") share one plan.
        encoded = plans.setdefault(part, _SheetPlan(sheet, part, {})).cells
        for raw_ref, value in cells.items():
            ref = raw_ref.replace("$", "").upper()
            where = f"{label}:{sheet}!{raw_ref}"
            if not _REF_PATTERN.fullmatch(ref):
                issues.append(Issue(where, CODE_BAD_REFERENCE, "is not a cell reference"))
                continue
            try:
                encoded[ref.encode("ascii")] = _encode(value)
            except ValueError as error:
                issues.append(Issue(where, CODE_UNSTORABLE_VALUE, str(error)))
    return list(plans.values()), issues


def _apply_plan(
    package: zipfile.ZipFile, plan: _SheetPlan, label: str
) -> tuple[bytes, list[str], list[Issue]]:
    """Patch one worksheet part and say which cells were done and which were not."""
    xml = package.read(plan.part)
    if xml.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _fail(label, f"part {plan.part} is UTF-16, which kpixl does not patch")
    new_xml, found = _patch_sheet_xml(xml, plan.cells)
    patched: list[str] = []
    issues: list[Issue] = []
    for ref in plan.cells:
        where = f"{label}:{plan.sheet}!{ref.decode('ascii')}"
        if ref not in found:
            issues.append(Issue(where, CODE_MISSING_CELL, "cell does not exist; nothing patched"))
        elif not found[ref]:
            issues.append(Issue(where, CODE_NOT_A_FORMULA, "cell holds no formula; left as is"))
        else:
            patched.append(f"{plan.sheet}!{ref.decode('ascii')}")
    return new_xml, patched, issues


def force_full_calc_xml(xml: bytes) -> bytes:
    """Set fullCalcOnLoad="1" on the workbook's calcPr, adding calcPr where it is missing.

    Args:
        xml: the workbook part.

    Returns:
        The workbook part with only the calcPr element changed or inserted.
    """
    existing = _CALC_PR.search(xml)
    if existing:
        prefix, attrs, slash = existing.groups()
        attrs = _set_attribute(attrs, _FULL_CALC_ATTR, b"fullCalcOnLoad", b"1")
        new = b"<" + prefix + b"calcPr" + attrs + slash + b">"
        return xml[: existing.start()] + new + xml[existing.end() :]
    root = _WORKBOOK_START.search(xml)
    prefix = root.group(1) if root else b""
    followers = rb"|".join(re.escape(prefix + name) for name in _AFTER_CALC_PR)
    anchor = re.search(
        rb"<(?:" + followers + rb")(?=[\s/>])|</" + re.escape(prefix) + rb"workbook\s*>", xml
    )
    at = anchor.start() if anchor else len(xml)
    return xml[:at] + b"<" + prefix + b'calcPr fullCalcOnLoad="1"/>' + xml[at:]


def _copy_raw(target: zipfile.ZipFile, source: BinaryIO, info: zipfile.ZipInfo, label: str) -> None:
    """Append one member to target as its original compressed bytes, without recompressing."""
    source.seek(info.header_offset)
    signature, name_length, extra_length = _LOCAL_HEADER.unpack(source.read(_LOCAL_HEADER.size))
    if signature != _LOCAL_SIGNATURE:
        raise _fail(label, f"zip entry {info.filename} has a damaged local header")
    source.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    member = copy.copy(info)
    # The sizes and CRC go into the local header, so no trailing data descriptor is needed.
    member.flag_bits &= ~_FLAG_DATA_DESCRIPTOR
    out = target.fp
    if out is None:
        raise ValueError("the output zip is closed")
    out.seek(target.start_dir)
    member.header_offset = out.tell()
    out.write(member.FileHeader())
    remaining = info.compress_size
    while remaining:
        chunk = source.read(min(remaining, _COPY_CHUNK))
        if not chunk:
            raise _fail(label, f"zip entry {info.filename} is truncated")
        out.write(chunk)
        remaining -= len(chunk)
    # The same bookkeeping ZipFile.mkdir does, so close() writes a complete central directory.
    target.filelist.append(member)
    target.NameToInfo[member.filename] = member
    target.start_dir = out.tell()


def _write_package(
    src: Path,
    package: zipfile.ZipFile,
    out: BinaryIO,
    replacements: Mapping[str, bytes],
    label: str,
) -> None:
    """Write every member in the original order, replacing only the patched parts."""
    with zipfile.ZipFile(out, "w") as target, src.open("rb") as source:
        target.comment = package.comment
        for info in package.infolist():
            if info.filename in replacements:
                member = copy.copy(info)
                target.writestr(member, replacements[info.filename], info.compress_type)
                # writestr turns a zero external_attr into 0o600 << 16; the central directory
                # is written on close, so restoring it here keeps the original attributes.
                member.external_attr = info.external_attr
            else:
                _copy_raw(target, source, info, label)


def patch_cached_values(
    src: Path,
    dst: Path,
    values: Mapping[str, Mapping[str, CellValue]],
    *,
    force_full_calc: bool = False,
) -> PatchReport:
    """Store new cached values in formula cells and write the workbook atomically.

    Only the ``<v>`` (and ``t``) of the requested formula cells change; every other part of
    the package is copied byte for byte. Requested cells that are missing or hold no formula
    are reported, never created. The output is written even when some cells are reported.

    Args:
        src: the workbook to read.
        dst: where to write; may be src itself (in-place update).
        values: ``{sheet name: {"B7": value}}``; a value is a number, text, bool, an Excel
            error literal such as ``"#DIV/0!"``, or None for "no cached value".
        force_full_calc: also set ``fullCalcOnLoad="1"`` in the workbook part so spreadsheet
            programs recalculate on open (changes that one part).

    Returns:
        The cells patched, the issues found and the parts rewritten.
    """
    src, dst = Path(src), Path(dst)
    label = src.name
    patched: list[str] = []
    with atomic_write(dst) as out:
        with _open_package(src, label) as package:
            workbook = _workbook_part(package, label)
            plans, issues = _plan(values, _sheet_parts(package, workbook, label), label)
            replacements: dict[str, bytes] = {}
            for plan in plans:
                xml, done, missing = _apply_plan(package, plan, label)
                if done:
                    replacements[plan.part] = xml
                patched += done
                issues += missing
            if force_full_calc:
                replacements[workbook] = force_full_calc_xml(package.read(workbook))
            _write_package(src, package, out, replacements, label)
    return PatchReport(tuple(patched), tuple(issues), tuple(replacements))
