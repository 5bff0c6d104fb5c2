"""A small reader of an xlsx package's cell values, straight from its XML, as openpyxl reads them.

``kpixl recalc`` reads a workbook's inputs; loading the whole workbook with openpyxl costs more
than everything else it does (its import alone is ~90 ms). This reader parses only what cell
values need: the content types, the workbook part and its relationships, the shared strings,
the number formats of the cell styles (a number in a date format reads as a date) and every
worksheet's cells. It gives each cell the value and data type openpyxl's
``load_workbook(data_only=False)`` gives it (formulas as ``=...`` text, shared formulas expanded,
merged cells blanked, cells created by hyperlinks present), behind the few parts of openpyxl's
API that :mod:`kpixl.workbook.read` and :mod:`kpixl.workbook.foreign_inputs` use.

Anything it does not reproduce exactly (chart sheets, array formulas, a percent-encoded or
unusual relationship target, comments, a date out of range, XML it cannot parse, ...) makes
:func:`load_cells` return None, and the caller loads the workbook with openpyxl as before: the
same values, warnings and errors for every file. ``tests/workbook/test_xml_cells.py`` checks
that both give identical cells for kpixl's own workbooks, the foreign-application ones and the
external corpus.

Run :func:`kpixl.workbook.safety.check_package` first: it refuses DOCTYPEs (so no entity reaches
the parser) and zip bombs.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element, iterparse

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_ROW, _CELL, _V, _F, _IS = (_MAIN + tag for tag in ("row", "c", "v", "f", "is"))
_T, _R, _SI = (_MAIN + tag for tag in ("t", "r", "si"))
# openpyxl's order: the first content type found names the workbook part.
_WORKBOOK_TYPES = (
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
)
_SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_STYLES = "xl/styles.xml"  # openpyxl reads the styles from this fixed name
#: Parts up to this size are parsed whole (safety.Limits.max_tree_bytes), larger ones streamed.
_WHOLE_PART_BYTES = 16 * 1024 * 1024
_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")
_INVALID_TITLE = re.compile(r"[\\*?:/\[\]]")
_WINDOWS_EPOCH = dt.datetime(1899, 12, 30)
_MAC_EPOCH = dt.datetime(1904, 1, 1)
_TRUE, _FALSE = ("1", "true"), ("0", "false")

# openpyxl.styles.numbers: the built-in number formats that read as dates or durations.
_BUILTIN_FORMATS = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00",
    5: '"$"#,##0_);("$"#,##0)', 6: '"$"#,##0_);[Red]("$"#,##0)',
    7: '"$"#,##0.00_);("$"#,##0.00)', 8: '"$"#,##0.00_);[Red]("$"#,##0.00)',
    9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?", 13: "# ??/??",
    14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm",
    37: "#,##0_);(#,##0)", 38: "#,##0_);[Red](#,##0)", 39: "#,##0.00_);(#,##0.00)",
    40: "#,##0.00_);[Red](#,##0.00)", 41: r'_(* #,##0_);_(* \(#,##0\);_(* "-"_);_(@_)',
    42: r'_("$"* #,##0_);_("$"* \(#,##0\);_("$"* "-"_);_(@_)',
    43: r'_(* #,##0.00_);_(* \(#,##0.00\);_(* "-"??_);_(@_)',
    44: r'_("$"* #,##0.00_)_("$"* \(#,##0.00\)_("$"* "-"??_)_(@_)',
    45: "mm:ss", 46: "[h]:mm:ss", 47: "mmss.0", 48: "##0.0E+0", 49: "@",
}  # fmt: skip
_STRIP = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
_DATE_CHAR = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_TIMEDELTA = re.compile(
    r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.IGNORECASE
)


class Unsupported(Exception):
    """Something this reader does not reproduce exactly: openpyxl reads the file instead."""


class XmlCell:
    """A cell's value and data type (``n``, ``s``, ``b``, ``d``, ``e`` or ``f``), as openpyxl's."""

    __slots__ = ("_value", "data_type")

    def __init__(self, value: Any = None, data_type: str = "n") -> None:
        self._value = value
        self.data_type = data_type

    @property
    def value(self) -> Any:
        """The value (setting one sets the data type as openpyxl does)."""
        return self._value

    @value.setter
    def value(self, value: Any) -> None:
        self._value = value
        if isinstance(value, bool):
            self.data_type = "b"
        elif isinstance(value, str):
            self.data_type = "f" if value.startswith("=") and len(value) > 1 else "s"
        elif isinstance(value, dt.date | dt.time | dt.timedelta):
            self.data_type = "d"
        else:
            self.data_type = "n"


class XmlSheet:
    """A worksheet's cells by (row, column), 1-based; looking a cell up creates it (openpyxl's)."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._cells: dict[tuple[int, int], XmlCell] = {}

    def cell(self, row: int, column: int) -> XmlCell:
        """The cell at a 1-based (row, column)."""
        if row < 1 or column < 1:
            raise ValueError("Row or column values must be at least 1")
        found = self._cells.get((row, column))
        if found is None:
            found = self._cells[row, column] = XmlCell()
        return found

    def __getitem__(self, ref: str) -> XmlCell:
        return self.cell(*_coordinates(ref))

    @property
    def max_row(self) -> int:
        """The largest row index holding a cell (1 without cells)."""
        return max(self._cells)[0] if self._cells else 1

    @property
    def max_column(self) -> int:
        """The largest column index holding a cell (1 without cells)."""
        return max(column for _row, column in self._cells) if self._cells else 1

    def iter_rows(
        self,
        min_row: int | None = None,
        max_row: int | None = None,
        min_col: int | None = None,
        max_col: int | None = None,
        values_only: bool = False,
    ) -> Iterator[tuple[Any, ...]]:
        """Rows of cells (or of values), creating the cells of the rectangle, as openpyxl does."""
        if not self._cells and not any((min_col, min_row, max_col, max_row)):
            return
        first_col, first_row = min_col or 1, min_row or 1
        last_col, last_row = max_col or self.max_column, max_row or self.max_row
        for row in range(first_row, last_row + 1):
            cells = [self.cell(row, column) for column in range(first_col, last_col + 1)]
            yield tuple(c.value for c in cells) if values_only else tuple(cells)


class XmlBook:
    """The worksheets of a workbook, by title, in workbook order."""

    def __init__(self, sheets: list[XmlSheet]) -> None:
        self._sheets = {sheet.title: sheet for sheet in sheets}

    @property
    def sheetnames(self) -> list[str]:
        """The sheet titles in workbook order."""
        return list(self._sheets)

    def __contains__(self, title: object) -> bool:
        return title in self._sheets

    def __getitem__(self, title: str) -> XmlSheet:
        try:
            return self._sheets[title]
        except KeyError:
            raise KeyError(f"Worksheet {title} does not exist.") from None

    @property
    def worksheets(self) -> list[XmlSheet]:
        """The sheets in workbook order."""
        return list(self._sheets.values())


def load_cells(path: Path) -> XmlBook | None:
    """Every worksheet's cells as openpyxl would load them; None where this reader cannot say.

    Args:
        path: an xlsx package that :func:`~kpixl.workbook.safety.check_package` accepted.

    Returns:
        The workbook's cells, or None: load it with openpyxl (which then gives its own values,
        warnings or error).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return _Reader(archive).book()
    except Exception:  # any surprise: openpyxl decides, as it did before this reader
        return None


class _Reader:
    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.names = set(archive.namelist())

    def book(self) -> XmlBook:
        types = self._tree("[Content_Types].xml")
        overrides = {
            node.get("ContentType"): node.get("PartName", "")
            for node in reversed(types.findall(_CT + "Override"))
        }  # reversed: the first override of a content type wins, as openpyxl's find()
        part = next((overrides[t] for t in _WORKBOOK_TYPES if t in overrides), None)
        if not part:
            raise Unsupported("no workbook override")
        workbook_part = part[1:]
        strings_part = overrides.get(_SHARED_STRINGS)
        strings = self._strings(strings_part[1:]) if strings_part is not None else []
        workbook = self._tree(workbook_part)
        if workbook.find(_MAIN + "pivotCaches") is not None:
            raise Unsupported("pivot caches")
        epoch = _WINDOWS_EPOCH
        properties = workbook.find(_MAIN + "workbookPr")
        if properties is not None and _bool(properties.get("date1904")):
            epoch = _MAC_EPOCH
        dates, durations, styles = self._date_styles()
        relations = self._relations(workbook_part)
        sheets = []
        seen: set[str] = set()
        for node in workbook.iter(_MAIN + "sheet"):
            title, rel_id = node.get("name"), node.get(_REL + "id")
            if not rel_id or title is None or rel_id not in relations:
                raise Unsupported("a sheet openpyxl warns about or cannot find")
            kind, target = relations[rel_id]
            if target not in self.names:
                continue  # openpyxl skips a sheet whose part is missing
            unusual = not title or len(title) > 31 or _INVALID_TITLE.search(title)
            if "chartsheet" in kind or unusual or title.lower() in seen:
                raise Unsupported("a chart sheet or a title openpyxl would change")
            seen.add(title.lower())
            sheet = XmlSheet(title)
            parser = _SheetParser(sheet, strings, epoch, dates, durations, styles)
            if self.archive.getinfo(target).file_size <= _WHOLE_PART_BYTES:
                parser.parse_tree(self._tree(target))  # one C call: much faster than iterparse
            else:
                with self.archive.open(target) as source:
                    parser.parse(source)
            self._sheet_relations(target)
            sheets.append(sheet)
        if not sheets:
            raise Unsupported("no worksheet")
        return XmlBook(sheets)

    def _tree(self, name: str) -> Element:
        from xml.etree.ElementTree import fromstring

        return fromstring(self.archive.read(name))

    def _relations(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, target part), targets resolved as openpyxl resolves them."""
        folder, base = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", base + ".rels")
        if rels not in self.names:
            return {}
        found = {}
        for node in self._tree(rels).iter(_PKG_REL + "Relationship"):
            if node.get("TargetMode") == "External":
                continue
            target = node.get("Target", "")
            if "%" in target or "\\" in target:
                raise Unsupported("an encoded target")
            if target.startswith("/"):
                target = target[1:]
            else:
                target = posixpath.normpath(posixpath.join(folder, target))
            found[node.get("Id", "")] = (node.get("Type", ""), target)
        return found

    def _sheet_relations(self, part: str) -> None:
        """Comments create cells where openpyxl loads them, and openpyxl parses pivot tables
        (and may fail on them): neither is reproduced here."""
        for kind, _target in self._relations(part).values():
            if kind.endswith(("/comments", "/pivotTable")):
                raise Unsupported("comments or a pivot table")

    def _strings(self, name: str) -> list[str]:
        strings = []
        with self.archive.open(name) as source:
            for _event, node in iterparse(source):
                if node.tag == _SI:
                    strings.append(_text(node).replace("x005F_", ""))
                    node.clear()
        return strings

    def _date_styles(self) -> tuple[set[int], set[int], int]:
        """The cell styles in a date format and in a duration format, and how many there are."""
        if _STYLES not in self.names:
            raise Unsupported("no stylesheet")
        styles = self._tree(_STYLES)
        custom = {}
        formats = styles.find(_MAIN + "numFmts")
        for node in formats.findall(_MAIN + "numFmt") if formats is not None else ():
            custom[int(node.get("numFmtId", ""))] = node.get("formatCode", "")
        cell_xfs = styles.find(_MAIN + "cellXfs")
        xfs = cell_xfs.findall(_MAIN + "xf") if cell_xfs is not None else []
        if not xfs:
            raise Unsupported("no cell styles")
        dates, durations = set(), set()
        for index, xf in enumerate(xfs):
            number = int(xf.get("numFmtId", "0"))
            code = custom[number] if number in custom else _BUILTIN_FORMATS.get(number)
            if code is None:
                continue
            first = code.split(";")[0]
            if _DATE_CHAR.search(_STRIP.sub("", first)):
                dates.add(index)
            if _TIMEDELTA.search(first):
                durations.add(index)
        return dates, durations, len(xfs)


class _SheetParser:
    def __init__(
        self,
        sheet: XmlSheet,
        strings: list[str],
        epoch: dt.datetime,
        dates: set[int],
        durations: set[int],
        styles: int,
    ) -> None:
        self.sheet = sheet
        self.strings = strings
        self.epoch = epoch
        self.dates = dates
        self.durations = durations
        self.styles = styles
        self.shared: dict[str | None, tuple[str, str]] = {}  # si -> (master formula, its cell)
        self.row = 0

    def parse_tree(self, root: Element) -> None:
        cells = self.sheet._cells
        for node in root.iter(_ROW):
            self._row(node, cells)
        merged = [node.get("ref", "") for node in root.iter(_MAIN + "mergeCell")]
        linked = [node.get("ref", "") for node in root.iter(_MAIN + "hyperlink")]
        self._finish(merged, linked)

    def parse(self, source: IO[bytes]) -> None:
        cells = self.sheet._cells
        merged: list[str] = []
        linked: list[str] = []
        for _event, node in iterparse(source):
            tag = node.tag
            if tag == _ROW:
                self._row(node, cells)
                node.clear()
            elif tag == _MAIN + "mergeCell":
                merged.append(node.get("ref", ""))
            elif tag == _MAIN + "hyperlink":
                linked.append(node.get("ref", ""))
        self._finish(merged, linked)

    def _finish(self, merged: list[str], linked: list[str]) -> None:
        cells = self.sheet._cells
        for ref in merged:  # every cell of the range exists; all but the first are blank
            first, _, last = ref.partition(":")
            top, left = _coordinates(first)
            bottom, right = _coordinates(last or first)
            for row in range(top, bottom + 1):
                for column in range(left, right + 1):
                    if (row, column) == (top, left):
                        self.sheet.cell(row, column)
                    else:
                        cells[row, column] = XmlCell()
        for ref in linked:  # a hyperlink's cell exists
            if ":" in ref:
                raise Unsupported("a hyperlink over a range")
            self.sheet[ref]

    def _row(self, node: Element, cells: dict[tuple[int, int], XmlCell]) -> None:
        number = node.get("r")
        if number is None:
            self.row += 1
        else:
            try:
                self.row = int(number)
            except ValueError:
                raise Unsupported("a row number openpyxl reads as a float") from None
        column = 0
        for element in node:
            ref = element.get("r")
            if ref:
                row, column = _coordinates(ref)
            else:
                column += 1
                row = self.row
            cells[row, column] = self._cell(element, ref)

    def _cell(self, element: Element, ref: str | None) -> XmlCell:
        kind = element.get("t", "n")
        style = element.get("s")
        if style == "":
            raise Unsupported("an empty style attribute")
        style_id = int(style) if style else 0
        if not 0 <= style_id < self.styles:
            raise Unsupported("a style openpyxl has not")
        formula = element.find(_F)
        if formula is not None:
            return XmlCell(self._formula(formula, ref), "f")
        text = None if kind == "inlineStr" else (element.findtext(_V) or None)
        if text is not None:
            return self._value(kind, text, style_id)
        if kind == "inlineStr":
            child = element.find(_IS)
            if child is not None:
                return XmlCell(_text(child), "s")
        return XmlCell(None, kind)

    def _value(self, kind: str, text: str, style_id: int) -> XmlCell:
        """A cell with a ``<v>``: openpyxl's number, shared string, boolean or text."""
        if kind == "n":
            number = float(text) if "." in text or "E" in text or "e" in text else int(text)
            if style_id in self.dates:
                return XmlCell(self._date(number, style_id in self.durations), "d")
            return XmlCell(number, "n")
        if kind == "d":
            raise Unsupported("an ISO date cell")
        if kind == "s":
            value: Any = self.strings[int(text)]
        elif kind == "b":
            value = bool(int(text))
        else:
            value = text
        return XmlCell(value, "s" if kind == "str" else kind)

    def _formula(self, formula: Element, ref: str | None) -> str:
        kind = formula.get("t")
        text = "=" + (formula.text or "")
        if kind in ("array", "dataTable"):
            raise Unsupported("an array or data table formula")
        if kind == "shared":
            index = formula.get("si")
            if index in self.shared:
                master, anchor = self.shared[index]
                from openpyxl.formula.translate import Translator  # only for shared formulas

                return str(Translator(master, anchor).translate_formula(ref))
            if text != "=":
                if not ref:
                    raise Unsupported("a shared formula without a cell reference")
                self.shared[index] = (text, ref)
        return text

    def _date(self, value: float, duration: bool) -> Any:
        """openpyxl's from_excel; a serial out of range is left to openpyxl (it warns)."""
        try:
            if duration:
                span = dt.timedelta(days=value)
                if span.microseconds:
                    whole = span.total_seconds() // 1
                    span = dt.timedelta(seconds=whole, microseconds=round(span.microseconds, -3))
                return span
            day, fraction = divmod(value, 1)
            diff = dt.timedelta(milliseconds=round(fraction * 86400 * 1000))
            if 0 <= value < 1 and diff.days == 0:
                minutes, seconds = divmod(diff.seconds, 60)
                hours, minutes = divmod(minutes, 60)
                return dt.time(hours, minutes, seconds, diff.microseconds)
            if 0 < value < 60 and self.epoch == _WINDOWS_EPOCH:
                day += 1
            return self.epoch + dt.timedelta(days=day) + diff
        except (OverflowError, ValueError):
            raise Unsupported("a date out of range") from None


def _text(node: Element) -> str:
    """A string item's text as openpyxl's ``Text.content``: its ``t``, then each run's ``t``."""
    parts = []
    for child in node:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag == _R:
            run = child.find(_T)
            if run is not None:
                parts.append(run.text or "")
    return "".join(parts)


def _coordinates(ref: str) -> tuple[int, int]:
    match = _REF.fullmatch(ref)
    if match is None:
        raise Unsupported(f"a cell reference openpyxl reads otherwise: {ref!r}")
    letters, digits = match.groups()
    column = 0
    for char in letters.upper():
        column = column * 26 + ord(char) - 64
    row = int(digits)
    if row < 1:
        raise Unsupported("row 0")
    return row, column


def _bool(text: str | None) -> bool:
    if text is None or text.lower() in _FALSE:
        return False
    if text.lower() in _TRUE:
        return True
    raise Unsupported("a boolean openpyxl reads otherwise")
