"""The quoting workbook built once per shape with XlsxWriter, then filled per contract.

Most of a workbook does not depend on the contract's figures: sheets, formats, formulas, data
validations, defined names, print setup and charts depend on its *shape* (periods, KPIs, tiers,
guardrails, formula mode, language, variant, quote block, rate card). ``kpixl batch`` builds
thousands of contracts of a few shapes, so :func:`shaped_bytes` builds a shape once with
XlsxWriter and, for every further contract of that shape, writes only what depends on the
contract's values:

1. The builder's own ``_write`` runs against a *recording* workbook instead of XlsxWriter: every
   call it makes (cells, formats, rows, print setup, charts, names) is logged. Nothing here
   lists sheets or cells, so new sheets and cells need no change in this module.
2. The log without the values (formulas, formats, positions, row heights, chart ranges, every
   other call and argument) must equal the shape's log exactly; otherwise the contract is built
   with XlsxWriter (a miss). What may differ is what XlsxWriter writes from values only: cell
   values and cached values, the shared strings, the header and footer texts, the document
   title and the charts' caches of cell values.
3. Those parts are rendered as XlsxWriter renders them (its own shared-strings and chart-cache
   writers; a cell element as ``Worksheet._write_cell`` writes it) into the shape's XML, split
   once per shape at every cell and cache, and zipped as XlsxWriter zips.

A shape is cached only when re-rendering its first contract from that contract's log gives
XlsxWriter's bytes exactly; so a rendering rule that does not hold for a shape leaves that shape
on the XlsxWriter path instead of giving different bytes. One contract gives one byte sequence
either way (tests/workbook/test_shape.py holds the two paths byte-equal over generated
contracts). The cache is per process (an LRU of :data:`CACHE_SIZE` shapes), so every local or
Dask worker process builds each shape once.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import io
import re
import struct
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from io import StringIO
from types import NoneType
from typing import Any

from xlsxwriter.chart import Chart
from xlsxwriter.sharedstrings import SharedStrings, SharedStringTable
from xlsxwriter.utility import _datetime_to_excel_datetime, xl_cell_to_rowcol

from kpixl.actuals import Actuals, Adjustments
from kpixl.memo import remembered
from kpixl.model import Contract
from kpixl.ratecard import RateCard
from kpixl.workbook.build import BuiltWorkbook, Prepared, _write, build_bytes, prepare
from kpixl.workbook.exact import number_text
from kpixl.workbook.layout import CellSpec, Lang, Layout, Mode, TemplateSchema, Variant
from kpixl.workbook.template import template_schema
from kpixl.workbook.terms import field_values, value_fields

#: Shapes kept per process (least recently used dropped first): about 5 MB each at 12 × 8.
CACHE_SIZE = 16
#: Contract fields that are free text: they reach the workbook only as cell or header text.
FREE_TEXT = frozenset({"id", "client", "provider", "name", "name_zh", "source", "definition"})
#: Cached values XlsxWriter stores with t="e" (Worksheet._write_cell's list).
_ERROR_CODES = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"})
_STRING_MAX = 32767 // 2  # longer strings may be truncated by XlsxWriter: not rendered here
_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?)(?: t="[a-zA-Z]+")?(?:/>|>.*?</c>)')
_CACHE_PART = re.compile(
    r"<c:f>([^<]*)</c:f><c:(num|str)Cache>.*?</c:\2Cache>",
    re.S,
)
_LOCAL_HEADER = struct.Struct("<4s22xHH")
_PART_SHEET = "xl/worksheets/sheet{}.xml"
_CORE = "docProps/core.xml"
_STRINGS = "xl/sharedStrings.xml"
_UNESCAPE = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&amp;", "&"))

#: (kind, value) of a cell as written: kind n(umber), s(tring: value is the sst index),
#: f(ormula: value is the cached value), b(lank), t(rue/false: 1 or 0).
_Value = tuple[str, Any]


class _Unsupported(Exception):
    """A call the recording does not render: the contract goes the XlsxWriter way."""


def _escape(text: str) -> str:
    """XlsxWriter's ``_escape_data``: & < > only."""
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _unescape(text: str) -> str:
    for escaped, plain in _UNESCAPE:
        text = text.replace(escaped, plain)
    return text


class _Token:
    """A format or chart handed to the builder; equal by creation order."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.index == self.index

    def __hash__(self) -> int:
        return self.index


class _Format(_Token):
    pass


class _Recording:
    """What the builder asked of XlsxWriter: the value-free log, and the values apart."""

    def __init__(self) -> None:
        self.structure: list[Any] = []
        self.sheets: list[str] = []
        #: By sheet, (row, col) -> the cell XlsxWriter's table would hold.
        self.cells: list[dict[tuple[int, int], _Value]] = []
        self.strings = SharedStringTable()
        #: Texts that are values outside cells: title, and each sheet's header and footer.
        self.texts: dict[tuple[int, str], str] = {}
        self.formats = 0
        self.charts = 0
        self._strings: list[str] | None = None
        self._rows: dict[int, set[int]] = {}

    def rows(self, sheet: int) -> set[int]:
        """The rows of a sheet that hold cells."""
        if sheet not in self._rows:
            self._rows[sheet] = {row for row, _col in self.cells[sheet]}
        return self._rows[sheet]

    def string_list(self) -> list[str]:
        """The shared strings by index."""
        if self._strings is None:
            table = self.strings.string_table
            self._strings = sorted(table, key=table.__getitem__)
        return self._strings


class _ChartRecorder(_Token):
    """A chart: every call is structure (series ranges, titles, axes)."""

    __slots__ = ("log",)

    def __init__(self, index: int, log: list[Any]) -> None:
        super().__init__(index)
        self.log = log

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> None:
            self.log.append(("chart", self.index, name, args, kwargs))

        return call


class _SheetRecorder:
    """A worksheet: cells are recorded as XlsxWriter would store them, the rest as calls."""

    def __init__(self, recording: _Recording, index: int) -> None:
        self.r = recording
        self.i = index
        self.cells = recording.cells[index]
        self.log = recording.structure

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> None:
            self.log.append((self.i, name, args, kwargs))

        return call

    @staticmethod
    def _format(cell_format: Any) -> int:
        if cell_format is None:
            return -1
        if not isinstance(cell_format, _Format):
            raise _Unsupported("unknown format object")
        return cell_format.index

    def write_formula(
        self, row: int, col: int, formula: str, cell_format: Any = None, value: Any = 0
    ) -> None:
        self.log.append((self.i, "f", row, col, self._format(cell_format), formula))
        self.cells[row, col] = ("f", value)

    def write_string(self, row: int, col: int, string: str, cell_format: Any = None) -> None:
        if type(string) is not str or len(string) > _STRING_MAX:
            raise _Unsupported("string")
        fmt = cell_format.index if type(cell_format) is _Format else self._format(cell_format)
        self.log.append((self.i, "s", row, col, fmt))
        self.cells[row, col] = ("s", self.r.strings._get_shared_string_index(string))

    def write_number(self, row: int, col: int, number: Any, cell_format: Any = None) -> None:
        if type(number) not in (int, float):
            raise _Unsupported("number")
        self.log.append((self.i, "n", row, col, self._format(cell_format)))
        self.cells[row, col] = ("n", number)

    def write_blank(self, row: int, col: int, blank: Any, cell_format: Any = None) -> None:
        self.log.append((self.i, "b", row, col, self._format(cell_format)))
        if cell_format is not None:  # XlsxWriter writes no blank cell without a format
            self.cells[row, col] = ("b", None)

    def write_boolean(self, row: int, col: int, boolean: Any, cell_format: Any = None) -> None:
        self.log.append((self.i, "t", row, col, self._format(cell_format)))
        self.cells[row, col] = ("t", 1 if boolean else 0)

    def write_datetime(self, row: int, col: int, date: Any, cell_format: Any = None) -> None:
        if cell_format is None:  # XlsxWriter would add its default date format
            raise _Unsupported("date without format")
        self.log.append((self.i, "n", row, col, self._format(cell_format)))
        self.cells[row, col] = ("n", _datetime_to_excel_datetime(date, False, False))

    def merge_range(
        self,
        first_row: int,
        first_col: int,
        last_row: int,
        last_col: int,
        data: Any,
        cell_format: Any = None,
    ) -> None:
        if type(data) is not str:
            raise _Unsupported("merged non-text")
        fmt = self._format(cell_format)
        self.log.append((self.i, "merge", first_row, first_col, last_row, last_col, fmt))
        if data == "":
            self.write_blank(first_row, first_col, None, cell_format)
        else:
            self.write_string(first_row, first_col, data, cell_format)
        for row in range(first_row, last_row + 1):
            for col in range(first_col, last_col + 1):
                if (row, col) != (first_row, first_col):
                    self.write_blank(row, col, None, cell_format)

    def data_validation(self, *args: Any, **kwargs: Any) -> None:
        self.log.append((self.i, "data_validation", args, kwargs))

    def set_row(self, *args: Any, **kwargs: Any) -> None:
        self.log.append((self.i, "set_row", args, kwargs))

    def _header(self, which: str, text: Any, options: Any) -> None:
        if type(text) is not str or options is not None or "&G" in text or "&[" in text:
            raise _Unsupported(which)
        if len(text) > 255:  # noqa: PLR2004 - XlsxWriter ignores longer headers
            raise _Unsupported(which)
        self.log.append((self.i, which))
        self.r.texts[self.i, which] = text

    def set_header(self, header: str = "", options: Any = None) -> None:
        self._header("oddHeader", header, options)

    def set_footer(self, footer: str = "", options: Any = None) -> None:
        self._header("oddFooter", footer, options)


class _BookRecorder:
    """Stands in for ``xlsxwriter.Workbook`` in the builder's ``_write``."""

    def __init__(self, recording: _Recording) -> None:
        self.r = recording

    def __call__(self, _stream: Any, options: dict[str, Any]) -> _BookRecorder:
        self.r.structure.append(("workbook", options))
        return self

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> None:
            self.r.structure.append(("book", name, args, kwargs))

        return call

    def set_properties(self, properties: dict[str, Any]) -> None:
        rest = {key: value for key, value in properties.items() if key != "title"}
        self.r.structure.append(("properties", rest, "title" in properties))
        if "title" in properties:
            self.r.texts[-1, "dc:title"] = str(properties["title"])

    def add_worksheet(self, name: str, worksheet_class: Any = None) -> _SheetRecorder:
        self.r.structure.append(("sheet", name, worksheet_class))
        self.r.sheets.append(name)
        self.r.cells.append({})
        return _SheetRecorder(self.r, len(self.r.sheets) - 1)

    def add_format(self, properties: dict[str, Any] | None = None) -> _Format:
        self.r.structure.append(("format", properties))
        self.r.formats += 1
        return _Format(self.r.formats - 1)

    def add_chart(self, options: dict[str, Any]) -> _ChartRecorder:
        self.r.structure.append(("add_chart", options))
        self.r.charts += 1
        return _ChartRecorder(self.r.charts - 1, self.r.structure)

    def close(self) -> None:
        self.r.structure.append(("close",))


def _record(
    plan: Prepared,
    mode: Mode,
    lang: Lang,
    variant: Variant,
    specs: Any = None,
    inputs: dict[str, Any] | None = None,
) -> tuple[_Recording, Any]:
    """Run the builder's ``_write`` against the recorder; the recording and the planned cells.

    ``specs``: the cells to write (default: all the schema's); ``inputs``: their input values
    when already known."""
    recording = _Recording()
    cells = _write(io.BytesIO(), plan.schema, plan.layout, plan.grid, plan.values, mode, lang,
                   plan.card, variant, None, workbook_class=_BookRecorder(recording),
                   specs=specs, inputs=inputs)  # fmt: skip
    return recording, cells


#: The types of the input values filled in (a number, or None for a blank).
_FILLED = (int, float, NoneType)


@dataclasses.dataclass
class _Formulas:
    """A shape's formula cells, filled in per contract instead of written by the builder.

    A hit's schema *is* its shape's (``shaped_build`` hands the cached schema to ``prepare``),
    and the mode is part of the shape, so each formula cell's position, formula and format are
    the shape's: only its cached value is the contract's, looked up as ``_write`` looks it up.
    The builder's ``_write`` runs over the other cells (labels, inputs, meta) and everything
    else, recorded and compared with the first contract's log as before.
    """

    #: The schema's other cells, which the builder writes.
    rest: tuple[CellSpec, ...]
    #: (sheet index, (row, col), sheet, A1, formula as planned) of each formula cell.
    cells: list[tuple[int, tuple[int, int], str, str, str]]
    #: The first contract's log without the formula cells.
    structure: list[Any]
    #: Each sheet's planned cells in the order ``_write`` plans them.
    order: dict[str, list[str]]
    #: The shape's cells: a contract is filled in only when its schema holds these very cells.
    specs: tuple[CellSpec, ...]
    #: (sheet index, (row, col), sheet, A1, input key, n or b) of each input cell filled in: a
    #: number or a blank in the first contract, filled only when the contract's is one too.
    numbers: list[tuple[int, tuple[int, int], str, str, str, str]] = dataclasses.field(
        default_factory=list
    )

    @classmethod
    def from_prime(
        cls,
        plan: Prepared,
        mode: Mode,
        lang: Lang,
        variant: Variant,
        prime: tuple[_Recording, Any],
        numbers: bool = False,
    ) -> _Formulas:
        """The shape's formula cells (and, with ``numbers``, its number and blank inputs)."""
        full, planned = prime
        specs = plan.schema.cells
        sheets = {name: i for i, name in enumerate(full.sheets)}
        cells, filled, rest = [], [], []
        for spec in specs:
            index, key = sheets[spec.sheet], xl_cell_to_rowcol(spec.ref)
            if spec.kind == "formula":
                formula = planned[spec.sheet][spec.ref][0]
                cells.append((index, key, spec.sheet, spec.ref, formula))
                continue
            if numbers and spec.role not in ("label", "meta"):
                kind = full.cells[index].get(key, ("", None))[0]
                value = planned[spec.sheet][spec.ref][1]
                if (kind == "n" and type(value) in (int, float)) or (kind, value) == ("b", None):
                    filled.append((index, key, spec.sheet, spec.ref, spec.key, kind))
                    continue
            rest.append(spec)
        recording, _cells = _record(plan, mode, lang, variant, tuple(rest))
        order = {name: list(refs) for name, refs in planned.items()}
        return cls(tuple(rest), cells, recording.structure, order, specs, filled)

    #: By sheet, in planned order: (sheet, cells the builder writes, [(A1, what, how), ...])
    #: where what is 0 (written by the builder), 1 (a formula: its sheet index, (row, col) and
    #: formula) or 2 (a number filled in: its position in ``numbers``, sheet index, (row, col)
    #: and kind).
    by_sheet: list[tuple[str, int, list[tuple[str, int, Any]]]] = dataclasses.field(
        init=False, repr=False
    )

    #: The field of each number filled in (None: no field, a blank), and (key, field) of the
    #: value cells the builder writes: ``input_values``'s entries for them.
    fields: tuple[list[str | None], list[tuple[str, str]]] = dataclasses.field(
        init=False, repr=False
    )

    def __post_init__(self) -> None:
        filled: dict[tuple[str, str], tuple[int, Any]] = {}
        for index, key, sheet, ref, formula in self.cells:
            filled[sheet, ref] = (1, (index, key, formula))
        for i, (index, key, sheet, ref, _name, kind) in enumerate(self.numbers):
            filled[sheet, ref] = (2, (i, index, key, kind))
        self.by_sheet = []
        for name, refs in self.order.items():
            entries = [(ref, *filled.get((name, ref), (0, None))) for ref in refs]
            count = sum(1 for entry in entries if entry[1] == 0)
            self.by_sheet.append((name, count, entries))
        known = dict(value_fields(self.specs))  # input_values's key -> field (the last wins)
        numbers = [known.get(entry[4]) for entry in self.numbers]
        written = [(spec.key, known[spec.key]) for spec in self.rest if spec.key in known]
        self.fields = (numbers, written)

    def record(
        self, plan: Prepared, mode: Mode, lang: Lang, variant: Variant
    ) -> tuple[_Recording, Any] | None:
        """The contract's recording and planned cells; None when its log is not the shape's."""
        if plan.schema.cells is not self.specs:
            return None
        inputs, got = None, []
        if self.numbers:
            # input_values's, for the numbers filled in and the value cells the builder writes
            # (it asks for no other: a cell without a value field writes None either way).
            fields: dict[Any, Any] = field_values(plan.layout, plan.grid, plan.card)
            got = [fields.get(field) for field in self.fields[0]]
            inputs = {key: fields.get(field) for key, field in self.fields[1]}
            for value, entry in zip(got, self.numbers, strict=True):
                if (value is None) != (entry[5] == "b") or type(value) not in _FILLED:
                    return None  # another kind of value: written by the builder
        recording, planned = _record(plan, mode, lang, variant, self.rest, inputs)
        if recording.structure != self.structure:
            return None
        ordered = self._ordered(recording, planned, plan.values, got)
        return None if ordered is None else (recording, ordered)

    def _ordered(
        self,
        recording: _Recording,
        planned: dict[str, dict[str, Any]],
        values: dict[str, dict[str, Any]],
        got: list[Any],
    ) -> dict[str, dict[str, Any]] | None:
        """The planned cells in the order ``_write`` plans them: the builder's as it wrote
        them, the formulas' and numbers' filled in (into the recording too); None unless the
        builder wrote exactly the cells it writes for the shape."""
        sheets = recording.cells
        empty: dict[str, Any] = {}
        if len(planned) != len(self.by_sheet):
            return None
        ordered = {}
        for name, count, entries in self.by_sheet:
            written, known = planned.get(name, empty), values.get(name, empty)
            if len(written) != count:
                return None
            cells: dict[str, Any] = {}
            for ref, what, how in entries:
                if what == 1:
                    index, key, formula = how
                    value = known.get(ref, "")
                    sheets[index][key] = ("f", value)
                    cells[ref] = (formula, value)
                elif what == 2:
                    i, index, key, kind = how
                    value = got[i]
                    sheets[index][key] = (kind, value)
                    cells[ref] = (None, value)
                elif ref in written:
                    cells[ref] = written[ref]
                else:
                    return None
            ordered[name] = cells
        return ordered


# Rendering ------------------------------------------------------------------------------------


def _formula_xml(head: str, body: str, value: Any) -> str:
    """A formula ``<c>`` element as XlsxWriter's ``Worksheet._write_cell`` writes it."""
    kind_attr = ""
    if isinstance(value, bool):
        kind_attr, value = ' t="b"', 1 if value else 0
    elif isinstance(value, str):
        if value in _ERROR_CODES:
            kind_attr = ' t="e"'
        elif value != "":
            kind_attr = ' t="str"'
        value = _escape(value)
    return f"{head}{kind_attr}{body}{value}</v></c>"


@dataclasses.dataclass
class _SheetPart:
    """A worksheet's XML split at its cells: chunks[0], cell 0, chunks[1], cell 1, ..."""

    sheet: int
    chunks: list[str]
    #: ((row, col), '<c r="A1" s="3"', '><f>formula</f><v>' or "") of each cell, in order.
    slots: list[tuple[tuple[int, int], str, str]]

    #: Each slot's texts, joined once per shape: (key, head, body, head + body, ``</v></c>``
    #: + the chunk after, head of a number, head of a shared string, blank cell + chunk after).
    joined: list[tuple[tuple[int, int], str, str, str, str, str, str, str]] = dataclasses.field(
        init=False, repr=False
    )

    def __post_init__(self) -> None:
        after = ["</v></c>" + chunk for chunk in self.chunks[1:]]
        self.joined = [
            (key, head, body, head + body, end, f"{head}><v>", f'{head} t="s"><v>',
             f"{head}/>{end[8:]}")
            for (key, head, body), end in zip(self.slots, after, strict=True)
        ]  # fmt: skip

    def render(self, recording: _Recording, prime: _Recording) -> str:
        """The sheet's XML with the recording's cells (as ``Worksheet._write_cell`` has them)."""
        cells = recording.cells[self.sheet]
        out = [self.chunks[0]]
        append = out.append
        # The text of a cell and the chunk after it, in pieces joined once per slot: a cell
        # that ends in ``</v></c>`` takes it with the chunk; one that does not, the chunk.
        for key, head, body, formula, after, number, shared, blank in self.joined:
            kind, value = cells[key]
            if kind == "f":
                of = type(value)
                if of is float or of is int:
                    append(formula)
                    append(str(value))
                    append(after)
                else:
                    append(_formula_xml(head, body, value))
                    append(after[8:])
            elif kind == "n":
                append(number)
                append(number_text(value))
                append(after)
            elif kind == "s":
                append(shared)
                append(str(value))
                append(after)
            elif kind == "t":
                append(f'{head} t="b"><v>{value}')
                append(after)
            else:
                append(blank)
        text = "".join(out)
        for which in ("oddHeader", "oddFooter"):
            old = prime.texts.get((self.sheet, which))
            new = recording.texts.get((self.sheet, which))
            if old != new and old is not None and new is not None:
                text = text.replace(f"<{which}>{_escape(old)}</{which}>",
                                    f"<{which}>{_escape(new)}</{which}>")  # fmt: skip
        return text


@functools.lru_cache(maxsize=4096)
def _range_of(formula: str) -> tuple[str, tuple[tuple[int, tuple[tuple[int, int], ...]], ...]]:
    """A chart range's sheet and, row by row, its cells' (row, col)."""
    sheet_name, _, cells = _unescape(formula).rpartition("!")
    if sheet_name.startswith("'"):
        sheet_name = sheet_name[1:-1].replace("''", "'")
    first, _, last = cells.replace("$", "").partition(":")
    row_start, col_start = xl_cell_to_rowcol(first)
    row_end, col_end = xl_cell_to_rowcol(last or first)
    spans = tuple((row, tuple((row, col) for col in range(col_start, col_end + 1)))
                  for row in range(row_start, row_end + 1))  # fmt: skip
    return sheet_name, spans


def _range_data(
    recording: _Recording, sheets: dict[str, int], formula: str, rows_of: _Recording | None = None
) -> list[Any]:
    """A chart range's cache data as ``Worksheet._get_range_data`` gives it.

    ``rows_of``: the recording whose rows holding cells are the same as ``recording``'s (its
    shape's first contract: cells sit where the log, equal to the shape's, puts them)."""
    sheet_name, spans = _range_of(formula)
    if sheet_name not in sheets:
        raise _Unsupported(f"chart range {formula}")
    index = sheets[sheet_name]
    table = recording.cells[index]
    strings = recording.string_list()
    rows = (recording if rows_of is None else rows_of).rows(index)
    data: list[Any] = []
    append = data.append
    for row, keys in spans:
        if row not in rows:
            append(None)
            continue
        for key in keys:
            cell = table.get(key)
            if cell is None:
                append(None)
                continue
            kind, value = cell
            if kind == "f":
                append(0 if value is None else value)
            elif kind == "n":
                append(f"{value:.16g}")
            elif kind == "s":
                append(strings[value])
            elif kind == "b":
                append("")
            # a boolean: Worksheet._get_range_data appends nothing for it
    return data


@dataclasses.dataclass
class _ChartPart:
    """A chart's XML split at its caches of cell values."""

    chunks: list[str]
    #: (range formula as written, num or str, the first contract's data type) of each cache.
    caches: list[tuple[str, str, str]]
    #: The first contract's data and XML of each cache (reused when the data are the same).
    first: list[tuple[list[Any], str]] = dataclasses.field(default_factory=list)

    def render(
        self,
        recording: _Recording,
        sheets: dict[str, int],
        prime: _Recording | None = None,
        writers: list[Chart] | None = None,
    ) -> str:
        """The chart's XML with caches of the recording's cells (as XlsxWriter writes them);
        ``prime``: the shape's first recording, whose rows are the recording's; ``writers``:
        the XlsxWriter chart writing the caches, shared by the package's charts (made once)."""
        writers = [] if writers is None else writers
        out = [self.chunks[0]]
        for i, (formula, kind, first_type) in enumerate(self.caches, 1):
            data = _range_data(recording, sheets, formula, prime)
            if self.first and self.first[i - 1][0] == data:
                out.append(self.first[i - 1][1])
                out.append(self.chunks[i])
                continue
            if not writers:
                writers.append(Chart())
            writer = writers[0]
            if writer._get_data_type(data) != first_type:
                raise _Unsupported("chart data changed type")
            fh = StringIO()
            writer._set_filehandle(fh)
            if kind == "num":
                writer._write_num_cache(data)
            else:
                writer._write_str_cache(data)
            out.append(f"<c:f>{formula}</c:f>{fh.getvalue()}")
            out.append(self.chunks[i])
        return "".join(out)


def _split_sheet(xml: str, sheet: int, recording: _Recording) -> _SheetPart:
    chunks: list[str] = []
    slots = []
    formulas = {}
    for entry in recording.structure:
        if entry[0] == sheet and entry[1] == "f":
            formulas[entry[2], entry[3]] = _escape(entry[5].removeprefix("="))
    start = 0
    for match in _CELL.finditer(xml):
        ref = match.group(1)
        key = xl_cell_to_rowcol(ref)
        formula = formulas.get(key)
        body = "" if formula is None else f"><f>{formula}</f><v>"
        chunks.append(xml[start : match.start()])
        slots.append((key, f'<c r="{ref}"{match.group(2)}', body))
        start = match.end()
    chunks.append(xml[start:])
    if {key for key, _head, _body in slots} != recording.cells[sheet].keys():
        raise _Unsupported("cells of the sheet differ from the recording")
    return _SheetPart(sheet, chunks, slots)


def _split_chart(xml: str, prime: _Recording, sheets: dict[str, int]) -> _ChartPart:
    chunks, caches, start = [], [], 0
    writer = Chart()
    for match in _CACHE_PART.finditer(xml):
        chunks.append(xml[start : match.start()])
        data_type = writer._get_data_type(_range_data(prime, sheets, match.group(1)))
        caches.append((match.group(1), match.group(2), data_type))
        start = match.end()
    chunks.append(xml[start:])
    part = _ChartPart(chunks, caches)
    rendered = part.render(prime, sheets)  # the first contract's caches, to reuse
    texts = [match.group(0) for match in _CACHE_PART.finditer(rendered)]
    datas = [_range_data(prime, sheets, formula) for formula, _kind, _type in caches]
    part.first = list(zip(datas, texts, strict=True))
    return part


def _compressed_bytes(package: bytes, info: zipfile.ZipInfo) -> bytes:
    """A member's compressed bytes, after its local header."""
    signature, name_length, extra_length = _LOCAL_HEADER.unpack_from(package, info.header_offset)
    if signature != b"PK\x03\x04":
        raise _Unsupported(f"zip member {info.filename} has no local header")
    start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    return package[start : start + info.compress_size]


def _append_compressed(target: zipfile.ZipFile, info: zipfile.ZipInfo, raw: bytes) -> None:
    """Append a member as its compressed bytes (``kpixl.workbook.patch``'s raw copy)."""
    member = copy.copy(info)
    out = target.fp
    if out is None:
        raise ValueError("the zip is closed")
    member.header_offset = out.tell()
    out.write(member.FileHeader())
    out.write(raw)
    target.filelist.append(member)
    target.NameToInfo[member.filename] = member
    target.start_dir = out.tell()


class _Strings(SharedStrings):  # type: ignore[misc]  # XlsxWriter ships no type hints
    """XlsxWriter's shared-strings writer; each string's ``<si>`` element, which depends on the
    string alone, is written by XlsxWriter once per process and then remembered."""

    def _write_si(self, string: str) -> None:
        self.fh.write(remembered(_SI, string, lambda: _si_xml(string), _SI_KEPT))


def _si_xml(string: str) -> str:
    writer, out = SharedStrings(), StringIO()
    writer._set_filehandle(out)
    writer._write_si(string)
    return out.getvalue()


#: ``<si>`` elements by string (see :class:`_Strings`), at most :data:`_SI_KEPT` of them.
_SI: dict[str, str] = {}
_SI_KEPT = 20_000


def _shared_strings(recording: _Recording) -> str:
    table = SharedStringTable()
    table.count = recording.strings.count
    table.unique_count = recording.strings.unique_count
    table.string_array = recording.string_list()  # _sort_string_data's list
    writer = _Strings()
    writer.string_table = table
    fh = StringIO()
    writer._set_filehandle(fh)
    writer._assemble_xml_file()
    return fh.getvalue()


@dataclasses.dataclass
class _Template:
    """One shape's package: each part as bytes, or split for rendering per contract."""

    parts: list[tuple[str, Any]]
    prime: _Recording
    sheets: dict[str, int]
    #: By part: the first contract's member, uncompressed and compressed bytes.
    compressed: dict[str, tuple[zipfile.ZipInfo, bytes, bytes]]

    @classmethod
    def from_prime(cls, data: bytes, recording: _Recording) -> _Template:
        sheets = {name: i for i, name in enumerate(recording.sheets)}
        sheet_parts = {_PART_SHEET.format(i + 1): i for i in range(len(recording.sheets))}
        parts: list[tuple[str, Any]] = []
        compressed = {}
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            for info in package.infolist():
                name = info.filename
                raw = package.read(name)
                compressed[name] = (info, raw, _compressed_bytes(data, info))
                if name in sheet_parts:
                    parts.append((name, _split_sheet(raw.decode(), sheet_parts[name], recording)))
                elif name.startswith("xl/charts/chart"):
                    parts.append((name, _split_chart(raw.decode(), recording, sheets)))
                elif name == _STRINGS:
                    parts.append((name, "strings"))
                elif name == _CORE:
                    parts.append((name, raw.decode()))
                else:
                    parts.append((name, raw))
        if not sheet_parts.keys() <= {name for name, _ in parts}:
            raise _Unsupported("sheet parts are not where XlsxWriter puts them")
        return cls(parts, recording, sheets, compressed)

    def render(self, recording: _Recording, reuse: bool = True) -> bytes:
        """The package of a contract of this shape; parts equal to the first contract's are
        copied compressed (``reuse``) instead of deflated again."""
        stream = io.BytesIO()
        charts: list[Chart] = []  # one chart writer for every chart's caches
        with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=False) as z:
            for name, part in self.parts:
                if isinstance(part, _SheetPart):
                    data = part.render(recording, self.prime).encode()
                elif isinstance(part, _ChartPart):
                    data = part.render(recording, self.sheets, self.prime, charts).encode()
                elif part == "strings":
                    data = _shared_strings(recording).encode()
                elif isinstance(part, str):
                    data = self._core(part, recording).encode()
                else:
                    data = part
                first = self.compressed.get(name)
                if reuse and first is not None and first[1] == data:
                    _append_compressed(z, first[0], first[2])
                    continue
                info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
        return stream.getvalue()

    def _core(self, xml: str, recording: _Recording) -> str:
        old = self.prime.texts.get((-1, "dc:title"))
        new = recording.texts.get((-1, "dc:title"))
        if old == new or old is None or new is None:
            return xml
        return xml.replace(f"<dc:title>{_escape(old)}</dc:title>",
                           f"<dc:title>{_escape(new)}</dc:title>")  # fmt: skip


# The cache ------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Entry:
    schema: TemplateSchema
    layout: tuple[Any, ...]
    template: _Template | None  # None: the shape is built with XlsxWriter every time
    reason: str = ""
    formulas: _Formulas | None = None
    #: The formula cells and the number and blank inputs filled in (tried first).
    numbers: _Formulas | None = None


_CACHE: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
_LOCK = threading.Lock()
#: Contracts rendered from a cached shape (hits) and built with XlsxWriter (misses), this process.
STATS = {"hits": 0, "misses": 0}
_CARD_KEYS: dict[int, tuple[RateCard, str]] = {}


def _skeleton(value: Any, key: str | None = None) -> Any:
    """The contract without its values: floats and free text replaced by their type."""
    if isinstance(value, dict):
        return tuple((k, _skeleton(v, k)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(_skeleton(v, key) for v in value)
    if type(value) is float:
        return float
    if type(value) is str and key in FREE_TEXT:
        return str
    return value


def _card_key(card: RateCard | None) -> str | None:
    if card is None:
        return None
    known = _CARD_KEYS.get(id(card))
    if known is None or known[0] is not card:
        if len(_CARD_KEYS) > CACHE_SIZE:
            _CARD_KEYS.clear()
        known = (card, card.model_dump_json())
        _CARD_KEYS[id(card)] = known
    return known[1]


def _layout_facts(layout: Layout) -> tuple[Any, ...]:
    """What the schema is made from, checked against the shape's before its schema is used."""
    return (layout.n, layout.k, layout.g, layout.cumulative, layout.metrics, layout.tier_counts,
            layout.adjustment_rows, layout.settlement_columns, layout.priced,
            tuple(layout.kpi_position.items()))  # fmt: skip


def shape_key(
    contract: Contract, mode: Mode, lang: Lang, variant: Variant, rows: int, card: RateCard | None
) -> tuple[Any, ...]:
    """The shape of a contract's workbook: everything it depends on but the contract's values."""
    return (_skeleton(contract.model_dump()), mode, lang, variant, rows, _card_key(card))


def _count(which: str) -> None:
    with _LOCK:
        STATS[which] += 1


def cache_stats() -> dict[str, int]:
    """Hits and misses of this process's shape cache, and the shapes it holds."""
    return {**STATS, "shapes": len(_CACHE)}


def clear_cache() -> None:
    """Forget every shape (tests)."""
    with _LOCK:
        _CACHE.clear()
        STATS.update(hits=0, misses=0)


def shaped_bytes(
    contract: Contract,
    actuals: Actuals | None = None,
    adjustments: Adjustments | None = None,
    mode: Mode = "native",
    lang: Lang = "both",
    rate_card: RateCard | None = None,
    variant: Variant = "full",
) -> BuiltWorkbook:
    """:func:`~kpixl.workbook.build.build_bytes`'s workbook, from this process's shape cache.

    The bytes are those ``build_bytes`` gives for the same arguments.

    Raises:
        ActualsError: the actuals or adjustments do not fit the contract.
        RateCardError: the rate card does not fit the RateCard sheet (KX127).
    """
    return shaped_build(contract, actuals, adjustments, mode, lang, rate_card, variant)[0]


def shaped_build(
    contract: Contract,
    actuals: Actuals | None = None,
    adjustments: Adjustments | None = None,
    mode: Mode = "native",
    lang: Lang = "both",
    rate_card: RateCard | None = None,
    variant: Variant = "full",
) -> tuple[BuiltWorkbook, bool]:
    """:func:`shaped_bytes`, and whether the workbook came from a cached shape (a hit).

    A hit's formulas, formats, validations, names and charts are exactly those of its shape's
    first workbook, which XlsxWriter wrote (and the batch checked in full); only its values
    are new.
    """
    found: list[Any] = []

    def schema_of(c: Contract, lang: Lang, rows: int, variant: Variant) -> TemplateSchema:
        key = shape_key(c, mode, lang, variant, rows, rate_card)
        with _LOCK:
            entry = _CACHE.get(key)
            if entry is not None:
                _CACHE.move_to_end(key)
        found[:] = [key, entry]
        if entry is not None:
            return dataclasses.replace(entry.schema, contract_id=c.id)
        return template_schema(c, lang, rows, variant)

    plan = prepare(contract, actuals, adjustments, lang, rate_card, variant, schema_of)
    key, entry = found
    if entry is not None:
        built = _from_shape(entry, plan, mode, lang, variant)
        _count("hits" if built is not None else "misses")
        if built is not None:
            return built, True
        return build_bytes(contract, actuals, adjustments, mode, lang, rate_card, variant), False
    _count("misses")
    built = _xlsxwriter(plan, mode, lang, variant)
    with _LOCK:
        _CACHE[key] = _new_entry(plan, built, mode, lang, variant)
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return built, False


def _xlsxwriter(plan: Prepared, mode: Mode, lang: Lang, variant: Variant) -> BuiltWorkbook:
    stream = io.BytesIO()
    cells = _write(stream, plan.schema, plan.layout, plan.grid, plan.values, mode, lang,
                   plan.card, variant)  # fmt: skip
    return BuiltWorkbook(stream.getvalue(), plan.schema, mode, cells, plan.layout, plan.scenario)


def _new_entry(
    plan: Prepared, built: BuiltWorkbook, mode: Mode, lang: Lang, variant: Variant
) -> _Entry:
    """A shape from its first contract, cached only if it renders back to XlsxWriter's bytes."""
    facts = _layout_facts(plan.layout)
    try:
        recording, cells = _record(plan, mode, lang, variant)
        template = _Template.from_prime(built.data, recording)
        fills = [_Formulas.from_prime(plan, mode, lang, variant, (recording, cells), numbers)
                 for numbers in (False, True)]  # fmt: skip
        for fill in fills:
            filled = fill.record(plan, mode, lang, variant)
            if filled is None or _planned_items(filled[1]) != _planned_items(cells):
                return _Entry(plan.schema, facts, None, "cells filled in differ from written")
            for reuse in (False, True):
                if template.render(filled[0], reuse) != built.data:
                    return _Entry(plan.schema, facts, None, "re-rendering differs from XlsxWriter")
    except _Unsupported as e:
        return _Entry(plan.schema, facts, None, str(e))
    return _Entry(plan.schema, facts, template, formulas=fills[0], numbers=fills[1])


def _planned_items(planned: Any) -> list[Any]:
    return [(name, list(cells.items())) for name, cells in planned.items()]


def _from_shape(
    entry: _Entry, plan: Prepared, mode: Mode, lang: Lang, variant: Variant
) -> BuiltWorkbook | None:
    """The contract rendered into its shape, or None when it does not fit the shape exactly."""
    template, formulas = entry.template, entry.formulas
    if template is None or formulas is None or _layout_facts(plan.layout) != entry.layout:
        return None
    try:
        filled = None if entry.numbers is None else entry.numbers.record(plan, mode, lang, variant)
        if filled is None:  # an input of another kind than the shape's: the builder writes it
            filled = formulas.record(plan, mode, lang, variant)
        if filled is None:
            return None
        recording, cells = filled
        data = template.render(recording)
    except _Unsupported:
        return None
    return BuiltWorkbook(data, plan.schema, mode, cells, plan.layout, plan.scenario)
