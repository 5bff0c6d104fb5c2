"""Read a contract, its actuals and adjustments back from a workbook's own input cells."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import ValidationError

from kpixl.actuals import Actuals, Adjustments
from kpixl.errors import ContractError, Issue, Place, WorkbookError
from kpixl.model import Contract, contract_from_data
from kpixl.ratecard import ROLES, QuoteInputs, RateCard
from kpixl.workbook.cached import ScenarioInputs
from kpixl.workbook.foreign_inputs import (
    adopt_constants,
    adopt_inputs,
    quiet_rewritten_styles,
)
from kpixl.workbook.layout import (
    ACTUALS,
    ADJUSTMENT_HEADER,
    GUARDRAILS,
    KPIS,
    META,
    META_KEY_COL,
    META_VALUE_COL,
    PRICING,
    QUOTE,
    QUOTE_PATHS,
    RATECARD,
    RATECARD_NAME_CELL,
    SCENARIO_ROWS,
    STATEMENT,
    TIERS,
    CellSpec,
    Layout,
    cell,
    pricing_inputs,
    ratecard_names,
    sample_rate_card,
)
from kpixl.workbook.pacing_sheet import read_pacing_inputs
from kpixl.workbook.safety import check_package
from kpixl.workbook.statement import StatementLayout
from kpixl.workbook.template import (
    CPS_RATE_CELL,
    pricing_input_cell,
    template_schema,
    term_cells,
    term_locations,
)
from kpixl.workbook.terms import path_set
from kpixl.workbook.xml_cells import XmlBook, XmlSheet, load_cells

if TYPE_CHECKING:
    import openpyxl
    from openpyxl.worksheet.worksheet import Worksheet

    #: A workbook as openpyxl loads it, or as the XML reader does (the same cells and values).
    Book: TypeAlias = openpyxl.Workbook | XmlBook
    Sheet: TypeAlias = Worksheet | XmlSheet

CODE_NOT_KPIXL = "KX301"
CODE_OUTSIDE_TABLE = "KX318"  # an adjustment below the adjustments table


def read_workbook(path: Path) -> tuple[Contract, Actuals, Adjustments]:
    """Read the contract, actuals and adjustments a kpixl workbook holds.

    Args:
        path: the .xlsx file.

    Returns:
        (contract, actuals as read, adjustments as read).

    Raises:
        WorkbookError: not a kpixl workbook, or its inputs break a contract rule; each issue is
            located ``file:Sheet!B7``.
    """
    contract, actuals, adjustments, _scenario = read_workbook_inputs(path)
    return contract, actuals, adjustments


def read_workbook_inputs(
    path: Path,
) -> tuple[Contract, Actuals, Adjustments, ScenarioInputs]:
    """Like :func:`read_workbook`, plus the scenario table's inputs (levels, CPS rate).

    Args:
        path: the .xlsx file.

    Returns:
        (contract, actuals, adjustments, scenario inputs), all as read.

    Raises:
        WorkbookError: not a kpixl workbook, or its inputs break a contract rule.
    """
    path = Path(path)
    check_package(path)  # an untrusted file: no zip bomb or entity reaches openpyxl
    book = load_cells(path) or _load_with_openpyxl(path)
    contract, actuals, adjustments = read_book(book, path.name)
    return contract, actuals, adjustments, read_scenario_inputs(book, contract)


def _load_with_openpyxl(path: Path) -> openpyxl.Workbook:
    """The workbook as openpyxl loads it, for what the XML reader leaves to openpyxl."""
    import openpyxl  # ~90 ms to import: only for files the XML reader does not read

    try:  # our own handle: openpyxl leaves its archive open when a load fails part-way
        with open(path, "rb") as handle, quiet_rewritten_styles():
            return openpyxl.load_workbook(handle, data_only=False, read_only=False)
    except Exception as e:  # openpyxl raises many kinds for a broken package
        issue = Issue.at(path.name, CODE_NOT_KPIXL, f"cannot be read as a workbook: {e}")
        raise WorkbookError.from_issues([issue]) from e


def read_scenario_inputs(book: Book, contract: Contract) -> ScenarioInputs:
    """The scenario table's levels and CPS rate; a cell without a number reads as None.

    Args:
        book: the workbook as openpyxl or the XML reader loaded it (formulas, not values).
        contract: the contract the workbook holds.

    Returns:
        One level per scenario row and the CPS rate.
    """
    layout = Layout(contract)
    sheet = book[QUOTE]
    levels = tuple(_number(sheet[layout.scenario("level", i)].value) for i in range(SCENARIO_ROWS))
    pricing = _pricing(book, layout) if layout.priced else None
    pacing = read_pacing_inputs(book, layout)
    period = None
    if STATEMENT in book.sheetnames:
        chosen = book[STATEMENT][StatementLayout(layout).period_ref.replace("$", "")].value
        period = "" if chosen is None else str(chosen)
    cps_rate = _number(sheet[layout.cps_rate_cell].value)
    return ScenarioInputs(levels, cps_rate, pricing, pacing=pacing, statement_period=period)


def _pricing(book: Book, layout: Layout) -> tuple[RateCard, QuoteInputs] | None:
    """The RateCard sheet and the Quote pricing inputs; None when they break a rule.

    The rate card is not part of the contract: it is read only to recompute the price cells.
    """
    if RATECARD not in book or PRICING not in book:  # a client copy: no internal pricing
        return None
    card_sheet, quote_sheet = book[RATECARD], book[PRICING]

    def entries(table: str) -> list[tuple[Any, Any]]:
        return [
            (
                _cell(card_sheet[layout.ratecard_cell(table, i, "name")].value),
                _cell(card_sheet[layout.ratecard_cell(table, i, "value")].value),
            )
            for i in range(len(ratecard_names(table)))
        ]

    def value(key: str) -> Any:
        return _cell(quote_sheet[layout.pricing_cell(key)].value)

    sample = sample_rate_card()
    named = card_sheet[RATECARD_NAME_CELL].value
    name = "rate card" if _blank(named) else str(named)
    card_data: dict[str, Any] = {
        "name": name,
        "sample": sample.sample and name == sample.name,
        "currency": layout.contract.currency,
        "roles": dict(entries("roles")),
        "platforms": dict(entries("platforms")),
        "categories": dict(entries("categories")),
        "integrations": dict(entries("integrations")),
        "add_ons": dict(entries("add_ons")),
        "term_discounts": [{"min_months": m, "discount": d} for m, d in entries("term_discounts")],
        **dict(entries("settings")),
    }
    flags = {name: value(f"add_on.{name}") for name in ratecard_names("add_ons")}
    keys = ("platform", "markets", "category_class", "integration", "languages", "term_months")
    quote_data: dict[str, Any] = {
        "team": {role: value(f"team.{role}") or 0 for role in ROLES},
        "add_ons": [name for name, flag in flags.items() if flag],
        **{key: value(key) for key in (*keys, "base_share", "risk_premium", "cap_ratio")},
    }
    quote_data = {key: v for key, v in quote_data.items() if v is not None and v != ""}
    try:
        return RateCard.model_validate(card_data), QuoteInputs.model_validate(quote_data)
    except ValidationError:  # the price cells then cache blanks; the formulas show the error
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def read_meta(book: Book) -> dict[str, str] | None:
    """The ``_kpixl`` sheet's entries (key in column A, value in B), or None without it."""
    if META not in book.sheetnames:
        return None
    sheet = book[META]
    first = min(META_KEY_COL, META_VALUE_COL)
    key_at, value_at = META_KEY_COL - first, META_VALUE_COL - first
    return {
        str(row[key_at]): "" if row[value_at] is None else str(row[value_at])
        for row in sheet.iter_rows(
            min_col=first + 1, max_col=max(META_KEY_COL, META_VALUE_COL) + 1, values_only=True
        )
        if row[key_at] is not None
    }


def built_adjustment_rows(meta: dict[str, str] | None) -> int:
    """The adjustments the workbook was built with (its table has SPARE rows more)."""
    try:
        return int((meta or {}).get("adjustment_rows") or 0)
    except ValueError:
        return 0


def read_book(book: Book, name: str) -> tuple[Contract, Actuals, Adjustments]:
    """Read contract, actuals and adjustments from an opened workbook (formulas, not values).

    Args:
        book: the workbook as openpyxl or the XML reader loaded it.
        name: how issue locations name the file.

    Returns:
        (contract, actuals as read, adjustments as read).

    Raises:
        WorkbookError: not a kpixl workbook, or its inputs break a contract rule.
    """
    missing = [sheet for sheet in (QUOTE, KPIS, TIERS, GUARDRAILS, ACTUALS) if sheet not in book]
    if missing:
        issue = Issue.at(name, CODE_NOT_KPIXL, f"not a kpixl workbook: no sheet {missing[0]}")
        raise WorkbookError.from_issues([issue])
    adopt_constants(book)  # inputs as other applications save them (SPEC §7)
    data = _contract_data(book)
    try:
        contract = contract_from_data(data, name)
        schema = template_schema(contract, "en", built_adjustment_rows(read_meta(book)))
        if adopt_inputs(book, schema.cells):
            data = _contract_data(book)
            contract = contract_from_data(data, name)
    except ContractError as e:
        raise WorkbookError.from_issues(_locate(e.issues, name, data)) from e
    layout = Layout(contract)
    sheet = book[ACTUALS]
    # The period column, then the contract's metrics in order (as the template lays them out).
    columns = range(layout.actual_col(layout.metrics[-1]) + 1)
    header = [_at(sheet, layout.actuals_header_row, c) for c in columns]
    rows = [[_cell(_at(sheet, p, c)) for c in columns] for p in range(1, layout.n + 1)]
    actuals = Actuals.from_rows(header, rows, f"{name}:{ACTUALS}")
    first = layout.adjustment_header_row + 1
    adj_rows = [
        [_cell(_at(sheet, row, c)) for c in range(len(ADJUSTMENT_HEADER))]
        for row in range(first, sheet.max_row)
    ]
    adjustments = Adjustments.from_rows(
        list(ADJUSTMENT_HEADER), adj_rows, f"{name}:{ACTUALS}", first_line=first + 1
    )
    outside = _outside_the_table(book, contract, adjustments, name)
    if outside:
        raise WorkbookError.from_issues(outside)
    return contract, actuals, adjustments


def _outside_the_table(
    book: Book, contract: Contract, adjustments: Adjustments, name: str
) -> list[Issue]:
    """Adjustments typed below the adjustments table: its formulas' ranges leave them out."""
    table = Layout(contract, built_adjustment_rows(read_meta(book)))
    first = table.adjustment_header_row + 2  # 1-based rows, as Adjustment.line counts
    last = first + table.adjustment_rows - 1
    return [
        Place(name, ACTUALS, cell(row.line - 1, 0)).issue(
            CODE_OUTSIDE_TABLE,
            f"adjustment of period {row.period}, {row.metric}, is below the adjustments table "
            f"(rows {first}-{last}): the workbook's formulas leave it out; move it into the "
            "table, or rebuild with `kpixl quote --adjustments`",
        )
        for row in adjustments.rows
        if row.line > last
    ]


def _at(sheet: Sheet, row: int, col: int) -> Any:
    """The value of a cell at a 0-based (row, col), as the layout counts them."""
    return sheet.cell(row + 1, col + 1).value


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _read_cells(book: Book, specs: Iterable[CellSpec]) -> dict[str, Any]:
    """The value of each cell by its field (a date cell's datetime as a date)."""
    return {
        str(spec.field): _cell(value) if spec.value_type == "date" else value
        for spec in specs
        for value in (book[spec.sheet][spec.ref].value,)
    }


def _contract_data(book: Book) -> dict[str, Any]:
    """The contract's data as the workbook's term cells hold it (the template's own table).

    The workbook's shape comes first: periods from the Quote cell, KPIs and guardrails while
    their table rows are filled, each curve's tiers while their ``from`` is. Every term cell of
    that shape (:func:`~kpixl.workbook.template.term_cells`) then puts its value at its field's
    contract path, and :func:`contract_data` keeps what a contract file would say.
    """
    quote_terms = _read_cells(book, term_cells(0, 0))
    count = quote_terms[QUOTE_PATHS["periods"]]
    # The target rows read: a count past the model's limit is the model's KX issue to report,
    # not a million rows to read.
    number = isinstance(count, int | float) and math.isfinite(count)
    periods = min(int(count), MAX_PERIODS) if number else 0
    kpis, guardrails = book[KPIS], book[GUARDRAILS]
    k = _filled(kpis, [Layout.kpi_col("code"), Layout.kpi_col("name")])
    g = _filled(guardrails, [Layout.guardrail_col("op")])
    tiers = [
        _filled(book[TIERS], [Layout.tier_col(i, "from")], Layout.tier_first_row) for i in range(k)
    ]
    values = _read_cells(book, term_cells(k, g, periods, tiers))
    data = contract_data(values)
    priced = PRICING in book.sheetnames  # the Pricing sheet's heading marks a priced workbook
    if priced and not _blank(book[PRICING][Layout.pricing_heading_cell].value):
        pricing = _read_cells(book, [*map(pricing_input_cell, pricing_inputs()), CPS_RATE_CELL])
        data = {**data, "quote": quote_section({k: _cell(v) for k, v in pricing.items()}, data)}
    return data


#: The most periods a contract may have (the model's limit on ``periods``).
MAX_PERIODS: int = next(
    int(rule.le) for rule in Contract.model_fields["periods"].metadata if hasattr(rule, "le")
)


def _filled(sheet: Sheet, columns: list[int], first: int = Layout.table_row(0)) -> int:
    """How many rows from ``first`` on have a value in any of the columns."""
    r = first
    while any(not _blank(_at(sheet, r, c)) for c in columns):
        r += 1
    return r - first


#: Contract paths read as they are, blank or not; every other blank term is left unset.
_ALWAYS = ("start", "currency_decimals", "code", "op", "bound", "effect")
#: The per-period series of a KPI (a scalar when every period has the same value).
_SERIES = ("target", "ramp", "baseline")


def contract_data(values: dict[str, Any]) -> dict[str, Any]:
    """Contract data (as a YAML file would hold it) from term values by contract path.

    Blank cells leave their term unset; markets read as a comma-separated list; a target (or
    baseline) series of one value reads as that value; a ramp ends at its first blank; a pair
    (ratio) is read when its first cell is filled, a section (exit, min_input, curve) when its
    first term is.

    Args:
        values: every term cell's value by its field (``fee.base``, ``kpis[0].target[2]``).

    Returns:
        The mapping for :func:`kpixl.model.contract_from_data`.
    """
    tree: dict[str, Any] = {}
    for path, value in values.items():
        path_set(tree, path, value)
    data = _kept(tree, skip=("markets", "fee", "min_input", "exit", "kpis", "guardrails"))
    if not _blank(tree["markets"]):
        data["markets"] = [m.strip() for m in str(tree["markets"]).split(",") if m.strip()]
    data["fee"] = _kept(tree["fee"])
    if not _blank(tree["min_input"]["person_days"]):
        data["min_input"] = tree["min_input"]
    if not _blank(tree["exit"]["threshold"]):
        data["exit"] = tree["exit"]
    data["kpis"] = [_kpi(kpi) for kpi in tree.get("kpis", [])]
    data["guardrails"] = [_kept(guardrail) for guardrail in tree.get("guardrails", [])]
    return data


def _kept(entry: dict[str, Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """An entry's terms that a contract states: the filled ones, and those read as they are."""
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key in skip:
            continue
        if key == "ratio":  # a pair: read when its numerator is filled
            if not _blank(value[0]):
                out[key] = value
        elif key in _ALWAYS or not _blank(value):
            out[key] = value
    return out


def _kpi(row: dict[str, Any]) -> dict[str, Any]:
    kpi = _kept(row, skip=("name", "curve", *_SERIES))
    kpi["name"] = row["name"] or ""
    targets = row.get("target", [])
    kpi["target"] = targets[0] if len(set(targets)) == 1 else targets
    ramp = []
    for value in row.get("ramp", []):
        if _blank(value):
            break
        ramp.append(value)
    if ramp:
        kpi["ramp"] = ramp
    baselines = row.get("baseline", [])
    if not all(_blank(b) for b in baselines):
        kpi["baseline"] = baselines[0] if len(set(baselines)) == 1 else baselines
    curve = row["curve"]
    if not _blank(curve["mode"]):
        kpi["curve"] = {"mode": curve["mode"], "tiers": curve.get("tiers", [])}
    return kpi


def quote_section(values: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The contract's ``quote`` section from the Quote pricing inputs (by field).

    Platform and markets equal to the contract's read back as unset (their default); the
    scenario levels are what-if inputs, not read.

    Args:
        values: the pricing input cells' values by field (``pricing.team.manager``) and the
            CPS rate's (``scenario.cps_rate``).
        data: the contract data read so far (its platform and markets).
    """
    quote: dict[str, Any] = {"team": {}, "add_ons": []}
    for key in pricing_inputs():
        value = values[f"pricing.{key}"]
        kind, _, name = key.partition(".")
        if kind == "team":
            if not _blank(value):
                quote["team"][name] = value
        elif kind == "add_on":
            if value:
                quote["add_ons"].append(name)
        elif key == "platform":
            if value != data.get("platform"):
                quote[key] = value
        elif key == "markets":
            if value != max(1, len(data.get("markets", []))):
                quote[key] = value
        else:
            quote[key] = value
    quote["cps_rate"] = values[str(CPS_RATE_CELL.field)]
    return {key: v for key, v in quote.items() if not _blank(v)}


def _locate(
    issues: tuple[Issue, ...] | list[Issue], name: str, data: dict[str, Any]
) -> list[Issue]:
    """Point contract issues at the cells that hold the offending inputs."""
    try:
        contract_like = _cells_by_key(data)
    except (KeyError, ValueError, TypeError):
        contract_like = {}
    located = []
    for issue in issues:
        path = issue.location.split(": ", 1)[-1]
        where = contract_like.get(path) or contract_like.get(path.split(".")[-1])
        if where:
            sheet, _, ref = where.partition("!")
            located.append(Place(name, sheet, ref).issue(issue.code, issue.message, issue.severity))
        else:
            located.append(issue)
    return located


def _cells_by_key(data: dict[str, Any]) -> dict[str, str]:
    """Contract path (as the model names it) to ``Sheet!A1``, for the shape that was read."""
    kpis = data.get("kpis", [])
    tiers = [len((kpi.get("curve") or {}).get("tiers") or []) for kpi in kpis]
    periods = data.get("periods")
    n = periods if isinstance(periods, int) and periods > 0 else 0  # the target rows read
    return term_locations(len(kpis), len(data.get("guardrails", [])), n, tiers)
