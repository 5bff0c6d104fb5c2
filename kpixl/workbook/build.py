"""Build the standard quoting workbook of one contract with XlsxWriter.

XlsxWriter is the writer because it stores a cached value beside each formula
(``write_formula(cell, formula, format, value)``); openpyxl cannot, and a workbook without
cached values shows nothing in pandas, python-calamine, previews or Excel's protected view.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import CellFormulaTuple, Worksheet

from kpixl.actuals import Actuals, Adjustments
from kpixl.atomic import atomic_write_bytes
from kpixl.engine.curve_words import point_count
from kpixl.model import Contract
from kpixl.ratecard import RateCard, RateCardError
from kpixl.workbook.cached import (
    ActualsGrid,
    CellValue,
    ScenarioInputs,
    actuals_grid,
    cached_values,
    default_scenario_inputs,
)
from kpixl.workbook.evidence import (
    STATEMENT_SOURCE_COLUMNS,
    EvidenceTable,
    evidence_cells,
    evidence_names,
    statement_evidence_cells,
)
from kpixl.workbook.exact import ExactWorksheet
from kpixl.workbook.layout import (
    ACTUALS,
    CURVE_CHART_ROWS,
    KPI_LINES,
    META_KEY_COL,
    PACING,
    QUOTE,
    REVIEW,
    SCENARIO_CHART_ROWS,
    SCENARIO_ROWS,
    SCHEMA_ID,
    SCHEMA_VERSION,
    SETTLEMENT,
    STATEMENT,
    CellSpec,
    Lang,
    Layout,
    Mode,
    SheetSpec,
    TemplateSchema,
    Variant,
    cell,
    sample_rate_card,
    sheet_misfits,
)
from kpixl.workbook.pacing_sheet import pacing_wraps, print_pacing
from kpixl.workbook.per_schema import per_cells
from kpixl.workbook.review_sheet import WRAPPED as REVIEW_WRAPPED
from kpixl.workbook.review_sheet import finish_review
from kpixl.workbook.settled import resolved
from kpixl.workbook.statement import (
    WRAPPED_LABELS,
    StatementLayout,
    print_statement,
    stands_out,
    wraps,
)
from kpixl.workbook.template import (
    client_terms,
    fingerprint,
    fixed_label,
    formula_text,
    template_schema,
)
from kpixl.workbook.terms import input_values

GENERATOR = "kpixl 0.1.0"
#: Fixed document timestamp: identical inputs must give a byte-identical file.
FIXED_CREATED = dt.datetime(2000, 1, 1, 0, 0, 0)


#: A cell as the builder asked XlsxWriter to write it: (formula with ``=`` or None, value).
#: The value is the cached value of a formula, or the constant (None for a blank cell).
PlannedCell = tuple[str | None, Any]


@dataclass(frozen=True)
class BuiltWorkbook:
    """A workbook built in memory: its bytes, and what was written into them."""

    data: bytes
    schema: TemplateSchema
    mode: Mode
    #: Every cell written, by sheet and A1 address.
    cells: dict[str, dict[str, PlannedCell]]
    layout: Layout
    #: The scenario table's and pricing block's inputs (the rate card among them).
    scenario: ScenarioInputs


def build_workbook(
    contract: Contract,
    actuals: Actuals | None = None,
    adjustments: Adjustments | None = None,
    mode: Mode = "native",
    lang: Lang = "both",
    out: Path = Path("quote.xlsx"),
    rate_card: RateCard | None = None,
    variant: Variant = "full",
    evidence: EvidenceTable | None = None,
) -> Path:
    """Write the quoting workbook of a contract atomically: :func:`build_bytes`, to ``out``.

    Returns:
        The path written.

    Raises:
        ActualsError: the actuals or adjustments do not fit the contract.
        RateCardError: the rate card does not fit the RateCard sheet (KX127).
    """
    built = build_bytes(contract, actuals, adjustments, mode, lang, rate_card, variant, evidence)
    atomic_write_bytes(out, built.data)
    return out


def build_bytes(
    contract: Contract,
    actuals: Actuals | None = None,
    adjustments: Adjustments | None = None,
    mode: Mode = "native",
    lang: Lang = "both",
    rate_card: RateCard | None = None,
    variant: Variant = "full",
    evidence: EvidenceTable | None = None,
) -> BuiltWorkbook:
    """Build the quoting workbook of a contract in memory (what ``build_workbook`` writes).

    Args:
        contract: the contract.
        actuals: actuals to fill the Actuals sheet with (and settle), or None.
        adjustments: adjustments for the adjustments table, or None.
        mode: ``native`` (plain Excel formulas) or ``udf`` (KPIXL_* functions).
        lang: label language: ``en``, ``zh`` or ``both``.
        rate_card: the rate card the RateCard sheet starts with (and the pricing block prices
            the quote with); default: the shipped sample card.
        variant: ``full``, or ``client``: the copy for the client, without the contract's
            quote section, the Pricing and RateCard sheets (no internal pricing, SPEC §7).
        evidence: what ``kpixl ingest`` read and the figures it gave, for the evidence table
            beside the actuals (``kpixl.workbook.evidence``), or None.

    Returns:
        The .xlsx bytes with the schema and every cell written, for checking them.

    Raises:
        ActualsError: the actuals or adjustments do not fit the contract.
        RateCardError: the rate card does not fit the RateCard sheet (KX127).
    """
    plan = prepare(contract, actuals, adjustments, lang, rate_card, variant)
    stream = io.BytesIO()
    cells = _write(stream, plan.schema, plan.layout, plan.grid, plan.values, mode, lang,
                   plan.card, variant, evidence)  # fmt: skip
    return BuiltWorkbook(stream.getvalue(), plan.schema, mode, cells, plan.layout, plan.scenario)


@dataclass(frozen=True)
class Prepared:
    """What a workbook is written from: its schema, layout, inputs and cached values."""

    card: RateCard
    grid: ActualsGrid
    schema: TemplateSchema
    layout: Layout
    scenario: ScenarioInputs
    values: dict[str, dict[str, CellValue]]


def prepare(
    contract: Contract,
    actuals: Actuals | None = None,
    adjustments: Adjustments | None = None,
    lang: Lang = "both",
    rate_card: RateCard | None = None,
    variant: Variant = "full",
    schema_of: Callable[[Contract, Lang, int, Variant], TemplateSchema] = template_schema,
) -> Prepared:
    """Everything :func:`build_bytes` computes before writing (``schema_of`` gives the schema).

    Raises:
        ActualsError: the actuals or adjustments do not fit the contract.
        RateCardError: the rate card does not fit the RateCard sheet (KX127).
    """
    card = sample_rate_card() if rate_card is None else rate_card
    misfits = [] if rate_card is None else sheet_misfits(card, card.name)  # the sample fits
    if misfits:
        raise RateCardError.from_issues(misfits)
    if variant == "client":
        contract = client_terms(contract)
    data = resolved(contract, actuals, adjustments)  # first: it names every bad cell
    grid = actuals_grid(contract, actuals, adjustments)
    schema = schema_of(contract, lang, len(grid.adjustments), variant)
    layout = Layout(contract, len(grid.adjustments))
    scenario = default_scenario_inputs(contract, card)
    # The schema's Pacing formula cells: listing them anew costs more than their values.
    pacing = per_cells(schema.cells, "pacing formulas", lambda: _pacing_refs(schema))
    values = cached_values(layout, grid, data, scenario, pacing)
    return Prepared(card, grid, schema, layout, scenario, values)


def _pacing_refs(schema: TemplateSchema) -> tuple[str, ...]:
    return tuple(c.ref for c in schema.cells if c.sheet == PACING and c.kind == "formula")


class _TemplateSheet(ExactWorksheet):
    """A worksheet for template formulas, which use no function Excel stores as ``_xlfn.``.

    XlsxWriter runs some 30 regular expressions over every formula to prefix Excel 365's
    dynamic-array functions, and one more to spot them; on a template of a few thousand
    formulas that was half of the build. The template uses none of them (a test checks), so
    a formula is stored as it is, without its ``=``. ``verify_built`` reads every formula back
    from the bytes, so a change in XlsxWriter's internals cannot slip through unnoticed.
    """

    def _write_formula(
        self, row: int, col: int, formula: str, cell_format: Any = None, value: Any = 0
    ) -> int:
        if self._check_dimensions(row, col):
            return -1
        self.table[row][col] = CellFormulaTuple(formula.removeprefix("="), cell_format, value)
        return 0


@functools.lru_cache(maxsize=65536)
def _rowcol(ref: str) -> tuple[int, int]:
    """XlsxWriter's (row, col) of an A1 address: parsing it anew on every write cost 10%."""
    row, col = xl_cell_to_rowcol(ref)
    return row, col


class _Formats:
    """XlsxWriter formats, created once per number format and lock state."""

    def __init__(self, book: Workbook) -> None:
        self.book = book
        self.cache: dict[tuple[str | None, bool, bool, bool, int | None, bool], Any] = {}

    def get(
        self,
        number_format: str | None,
        locked: bool,
        bold: bool = False,
        wrap: bool = False,
        size: int | None = None,
        left: bool = False,
    ) -> Any:
        key = (number_format, locked, bold, wrap, size, left)
        if key not in self.cache:
            # Top-aligned: a label beside a wrapped text of several lines reads with its first.
            props: dict[str, Any] = {"locked": locked, "bold": bold, "valign": "top"}
            if size is not None:
                props["font_size"] = size
            if left:
                props["align"] = "left"
            if wrap:
                props["text_wrap"] = True
            if number_format:
                props["num_format"] = number_format
            if not locked:
                props["bg_color"] = "#FFF8DC"
            self.cache[key] = self.book.add_format(props)
        return self.cache[key]


def _write(
    stream: io.BytesIO,
    schema: TemplateSchema,
    layout: Layout,
    grid: ActualsGrid,
    values: dict[str, dict[str, CellValue]],
    mode: Mode,
    lang: Lang,
    card: RateCard,
    variant: Variant = "full",
    evidence: EvidenceTable | None = None,
    workbook_class: Callable[..., Any] = xlsxwriter.Workbook,
    specs: Iterable[CellSpec] | None = None,
    inputs: dict[str, Any] | None = None,
) -> dict[str, dict[str, PlannedCell]]:
    # ``specs``: the cells to write, default the schema's (kpixl.workbook.shape leaves out the
    # formula cells of a cached shape, whose formulas and formats are the shape's); ``inputs``:
    # the input cells' values when the caller has them (``input_values``'s).
    options = {
        "in_memory": True,  # zip entries dated 1980-01-01: deterministic output
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
    }
    book = workbook_class(stream, options)  # kpixl.workbook.shape records the calls instead
    book.set_properties(
        {
            "title": f"{'Proposal' if variant == 'client' else 'kpixl quote'} {schema.contract_id}",
            "author": "kpixl",
            "created": FIXED_CREATED,
            "comments": GENERATOR,
        }
    )
    book.set_calc_mode("auto")
    sheets: dict[str, Worksheet] = {}
    for sheet_spec in schema.sheets:
        sheet = book.add_worksheet(sheet_spec.name, worksheet_class=_TemplateSheet)
        sheets[sheet_spec.name] = sheet
        for col, width in sheet_spec.widths:
            sheet.set_column(col, col, width)
        if sheet_spec.freeze:
            sheet.freeze_panes(*sheet_spec.freeze)
        if sheet_spec.state == "veryHidden":
            sheet.very_hidden()
        _print_setup(sheet, sheet_spec, schema.contract_id)
        _group(sheet, sheet_spec)
        sheet.protect("", {"format_columns": True, "format_rows": True})
    formats = _Formats(book)
    if inputs is None:
        inputs = input_values(layout, grid, card, schema)
    meta = {
        "schema_id": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "contract_id": schema.contract_id,
        "generator": GENERATOR,
        "fingerprint": fingerprint(schema, mode),
        "formula_mode": mode,
        "lang": lang,
        "adjustment_rows": len(grid.adjustments),
        "variant": variant,
    }
    planned: dict[str, dict[str, PlannedCell]] = {spec.name: {} for spec in schema.sheets}
    heights: dict[int, float] = {}  # Quote rows heightened for wrapped proposal texts
    for spec in schema.cells if specs is None else specs:
        sheet, cells = sheets[spec.sheet], planned[spec.sheet]
        if spec.kind == "formula":
            value = values.get(spec.sheet, {}).get(spec.ref, "")
            formula = formula_text(spec, mode)
            wrap, bold = (spec.sheet == STATEMENT and f(spec.key) for f in (wraps, stands_out))
            fmt = formats.get(spec.number_format, True, bold=bold, wrap=wrap)
            sheet.write_formula(*_rowcol(spec.ref), formula, fmt, value)
            cells[spec.ref] = (formula, value)
        elif spec.role == "meta":
            key = str(spec.field)
            row, _col = _rowcol(spec.ref)
            name_ref = cell(row, META_KEY_COL)
            sheet.write_string(*_rowcol(spec.ref), str(meta[key]))
            sheet.write_string(*_rowcol(name_ref), key)
            cells[spec.ref], cells[name_ref] = (None, str(meta[key])), (None, key)
        elif spec.role == "label":
            text = fixed_label(spec.key, layout, lang) or ""
            cells.update(_write_label(sheet, spec, text, formats, heights))
        else:
            cells[spec.ref] = (None, _write_value(sheet, spec, inputs.get(spec.key), formats))
    for row, height in heights.items():
        sheets[QUOTE].set_row(row, height)
    evidence_rows = 0
    if evidence is not None:
        _write_evidence(book, sheets[ACTUALS], layout, evidence, lang, formats)
        evidence_rows = _write_statement_evidence(sheets[STATEMENT], layout, evidence, formats)
    _finish(book, sheets, schema, layout)
    finish_review(book, sheets[REVIEW], layout, lang)
    print_statement(sheets[STATEMENT], layout, grid.adjustments, evidence_rows)
    book.close()
    return planned


def _write_label(
    sheet: Worksheet, spec: CellSpec, text: str, formats: _Formats, heights: dict[int, float]
) -> dict[str, PlannedCell]:
    """Write a label; returns the cells written (a merged text's blank cells among them)."""
    row, col = _rowcol(spec.ref)
    if spec.span > 1 or spec.key.startswith("label.proposal."):
        _write_text(sheet, spec, text, formats, heights)
        merged: dict[str, PlannedCell] = {
            cell(row, c): (None, None) for c in range(col + 1, col + spec.span)
        }
        return {spec.ref: (None, text), **merged}
    wrap, size = _label_style(spec.sheet, spec.key)
    fmt = formats.get(None, True, bold=True, wrap=wrap, size=size)
    sheet.write_string(row, col, text, fmt)
    return {spec.ref: (None, text)}


@functools.lru_cache(maxsize=65536)
def _label_style(sheet: str, key: str) -> tuple[bool, int | None]:
    """Whether a label on a sheet wraps, and its font size (None: the default)."""
    # Settlement headers are long bilingual labels over narrow number columns: wrap them.
    wrap = sheet == SETTLEMENT and key.startswith("label.settlement.")
    wrap = wrap or key.startswith(("label.scenario.", "label.scenario_kpi["))
    wrap = wrap or key.startswith(WRAPPED_LABELS) or pacing_wraps(key)
    wrap = wrap or key.startswith(REVIEW_WRAPPED)
    heading = sheet == QUOTE and key.removeprefix("label.") in HEADINGS
    return wrap, _size(key, heading)


#: Quote headings, printed larger.
HEADINGS = ("fee_structure", "scenarios", "kpi_terms", "terms", "curves", "signature", "working")
#: Characters of wrapped text a printed Quote line holds per column spanned (about).
_CHARS_PER_COLUMN = 16.0
_LINE_HEIGHT = 15.0


def _size(key: str, heading: bool) -> int | None:
    if key == "label.quote_title":
        return 16
    return 12 if heading else None


def _text_width(text: str) -> int:
    """Display width of a line: CJK characters (from U+2E80 on) take two columns."""
    return len(text) + len(_WIDE.findall(text))


_WIDE = re.compile("[\u2e80-\U0010ffff]")


def _write_text(
    sheet: Worksheet, spec: CellSpec, text: str, formats: _Formats, heights: dict[int, float]
) -> None:
    """A proposal text: merged over its span, wrapped, its row as high as its lines need."""
    row, col = _rowcol(spec.ref)
    bold = ".name" in spec.key or spec.key.endswith(".party.client") or ".party." in spec.key
    fmt = formats.get(None, True, bold=bold, wrap=True)
    if spec.span > 1:
        sheet.merge_range(row, col, row, col + spec.span - 1, text, fmt)
    else:
        sheet.write_string(row, col, text, fmt)
    width = spec.span * _CHARS_PER_COLUMN + (17 if col == 0 else 0)
    lines = sum(max(1, -(-_text_width(part) // int(width))) for part in text.split("\n"))
    heights[row] = max(heights.get(row, _LINE_HEIGHT), lines * _LINE_HEIGHT)


def _group(sheet: Worksheet, spec: SheetSpec) -> None:
    """Outline the sheet's helper columns: grouped and collapsed (hidden until opened)."""
    widths = dict(spec.widths)
    for first, last in spec.groups:
        for col in range(first, last + 1):
            sheet.set_column(col, col, widths.get(col), None, {"level": 1, "hidden": True})
        after = last + 1
        sheet.set_column(after, after, widths.get(after), None, {"collapsed": True})


#: XlsxWriter's paper code of A4.
A4 = 9


def _print_setup(sheet: Worksheet, spec: SheetSpec, contract_id: str) -> None:
    """A4, fit to one page wide; client-facing sheets portrait with header and footer."""
    printing = spec.printing
    sheet.set_paper(A4)
    if printing.portrait:
        sheet.set_portrait()
    else:
        sheet.set_landscape()
    sheet.fit_to_pages(1, printing.pages_tall or 0)
    if printing.area is not None:
        sheet.print_area(*printing.area)
    if printing.repeat_rows is not None:
        sheet.repeat_rows(*printing.repeat_rows)
    if printing.breaks:
        sheet.set_h_pagebreaks(list(printing.breaks))
    if printing.header_footer:
        name = contract_id.replace("&", "&&")
        sheet.set_header(f"&L{name}&R&A")
        sheet.set_footer("&L" + name + "&RPage &P of &N")
        sheet.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)


def _write_evidence(
    book: Workbook,
    sheet: Worksheet,
    layout: Layout,
    evidence: EvidenceTable,
    lang: Lang,
    formats: _Formats,
) -> None:
    """The evidence table beside the actuals (locked: it records, it is not typed in)."""
    fmt = formats.get(None, True)
    for ref, value in evidence_cells(layout, evidence, lang).items():
        row, col = _rowcol(ref)
        if value is None:
            sheet.write_blank(row, col, None, fmt)
        elif isinstance(value, int | float):
            sheet.write_number(row, col, value, fmt)
        else:
            sheet.write_string(row, col, str(value), fmt)
    for name, target in evidence_names(layout, evidence.evidence).items():
        book.define_name(name, "=" + target)


#: Columns of the Statement's sources table whose text wraps: the mapping and the SHA-256.
WRAPPED_SOURCE_COLUMNS = tuple(STATEMENT_SOURCE_COLUMNS.index(key) for key in ("mapping", "sha256"))


def _write_statement_evidence(
    sheet: Worksheet, layout: Layout, evidence: EvidenceTable, formats: _Formats
) -> int:
    """The sources of the actuals below the Statement's evidence note; returns the rows used."""
    first = StatementLayout(layout).evidence_row + 2
    cells = statement_evidence_cells(first, evidence.evidence)
    header, body = formats.get(None, True, bold=True), formats.get(None, True)
    # The mapping name and the SHA-256 (64 characters) wrap: up to three lines per source.
    wrapped = formats.get(None, True, wrap=True)
    for row in range(first + 1, first + 1 + len(evidence.evidence.sources)):
        sheet.set_row(row, 38)
    for ref, value in cells.items():
        row, col = _rowcol(ref)
        fmt = header if row == first else wrapped if col in WRAPPED_SOURCE_COLUMNS else body
        if isinstance(value, int | float):
            sheet.write_number(row, col, value, fmt)
        else:
            sheet.write_string(row, col, str(value), fmt)
    return 1 + len(evidence.evidence.sources)


def _write_value(sheet: Worksheet, spec: CellSpec, value: Any, formats: _Formats) -> Any:
    """Write an input or fixed cell; returns the value as written (text for anything else)."""
    row, col = _rowcol(spec.ref)
    locked = spec.kind == "fixed"
    # The proposal's header values read as one column of text: left-aligned.
    left = spec.sheet == QUOTE and spec.key.startswith("quote.") and "[" not in spec.key
    fmt = formats.get(spec.number_format, locked, left=left)
    if spec.validation:
        # A single "=Sheet!$A$2:$A$9" is a range of choices (a literal list holds 255 characters).
        ranged = len(spec.validation) == 1 and spec.validation[0].startswith("=")
        source = spec.validation[0] if ranged else list(spec.validation)
        sheet.data_validation(row, col, row, col, {"validate": "list", "source": source})
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, fmt)
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, dt.datetime(value.year, value.month, value.day), fmt)
    else:
        # Always as text: contract text starting with = + - @ must never become a formula.
        value = str(value)
        sheet.write_string(row, col, value, fmt)
    return value


def _finish(
    book: Workbook, sheets: dict[str, Worksheet], schema: TemplateSchema, layout: Layout
) -> None:
    for name, target in schema.names.items():
        book.define_name(name, "=" + target)
    sheets[QUOTE].activate()
    print_pacing(sheets[PACING], layout)
    _chart(book, sheets[QUOTE], layout)
    _scenario_chart(book, sheets[QUOTE], layout)
    for k in range(layout.k):
        _curve_chart(book, sheets[QUOTE], layout, k)
    sheets[SETTLEMENT].set_row(0, 48)  # three lines of wrapped bilingual header
    sheets[QUOTE].set_row(layout.scenario_header_row, 48)  # wrapped scenario headers
    sheets[QUOTE].set_row(0, 24)  # the 16-point title
    for k in range(layout.k):  # a thin gap between KPI blocks
        sheets[QUOTE].set_row(layout.kpi_line_row(k, KPI_LINES[-1]) + 1, 6)


#: Width in pixels of the printed Quote columns (A to H), which charts span.
_PRINT_WIDTH = 900


def _chart(book: Workbook, sheet: Worksheet, layout: Layout) -> None:
    """A column chart of the fee per period (base and bonus stacked), in the working area."""
    chart = book.add_chart({"type": "column", "subtype": "stacked"})
    head = layout.per_period_row
    first, last = head + 1, head + layout.n
    for col, name in ((1, "Base / 基础"), (2, "Bonus / 奖金")):
        chart.add_series(
            {
                "name": name,
                "categories": [QUOTE, first, 0, last, 0],
                "values": [QUOTE, first, col, last, col],
            }
        )
    chart.set_title({"name": "Fee per period / 各期服务费"})
    sheet.insert_chart(head, 5, chart)


def _scenario_chart(book: Workbook, sheet: Worksheet, layout: Layout) -> None:
    """The fee per scenario level: base and bonus stacked, fixed fee and CPS as lines."""
    first, last = layout.scenario_row(0), layout.scenario_row(SCENARIO_ROWS - 1)
    categories = [QUOTE, first, layout.scenario_col("level"), last, layout.scenario_col("level")]

    def series(key: str, name: str) -> dict[str, Any]:
        col = layout.scenario_col(key)
        return {"name": name, "categories": categories, "values": [QUOTE, first, col, last, col]}

    columns = book.add_chart({"type": "column", "subtype": "stacked"})
    columns.add_series(series("base", "Base / 基础"))
    columns.add_series(series("bonus", "Bonus / 奖金"))
    lines = book.add_chart({"type": "line"})
    lines.add_series({**series("fixed_fee", "Fixed fee / 固定费用"), "marker": {"type": "circle"}})
    lines.add_series({**series("cps_fee", "CPS / 纯佣金"), "marker": {"type": "diamond"}})
    columns.combine(lines)
    columns.set_title({"name": "Fee per scenario / 各情景服务费"})
    columns.set_x_axis({"name": "Attainment level / 达成水平", "num_format": "0%"})
    columns.set_y_axis({"num_format": "#,##0", "min": 0})
    columns.set_legend({"position": "bottom"})
    columns.set_size({"width": _PRINT_WIDTH, "height": SCENARIO_CHART_ROWS * 20})
    sheet.insert_chart(layout.scenario_chart_row, 0, columns, {"x_offset": 2, "y_offset": 4})


def _curve_chart(book: Workbook, sheet: Worksheet, layout: Layout, k: int) -> None:
    """KPI k's payout curve: factor against attainment, from its points beside the sheet."""
    kpi = layout.contract.kpis[k]
    head = layout.curve_header_row
    first, last = head + 1, head + point_count(kpi)
    x_col, f_col = layout.curve_col(k, "x"), layout.curve_col(k, "f")
    chart = book.add_chart({"type": "scatter", "subtype": "straight"})
    chart.add_series(
        {
            "name": kpi.code,
            "categories": [QUOTE, first, x_col, last, x_col],
            "values": [QUOTE, first, f_col, last, f_col],
            "line": {"width": 2.25},
        }
    )
    title = kpi.name or kpi.code
    title = f"{title} / {kpi.name_zh}" if kpi.name_zh else title
    chart.set_title({"name": title, "name_font": {"size": 10}})
    chart.set_x_axis(
        {
            "min": 0,
            "major_unit": 0.5,
            "num_format": "0%",
            "name": "attainment / 达成率",
            "name_font": {"size": 8},
            "major_gridlines": {"visible": True, "line": {"color": "#DDDDDD"}},
        }
    )
    chart.set_y_axis({"min": 0, "name": "factor / 系数", "name_font": {"size": 8}})
    chart.set_legend({"none": True})
    width = _PRINT_WIDTH // layout.curves_per_row - 8
    chart.set_size({"width": width, "height": CURVE_CHART_ROWS * 20 - 8})
    row, position = layout.curve_chart_place(k)
    sheet.insert_chart(row, 0, chart, {"x_offset": 2 + position * (width + 8), "y_offset": 4})
