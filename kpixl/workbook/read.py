"""Read a contract, its actuals and adjustments back from a workbook's own input cells."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import ValidationError

from kpixl.actuals import Actuals, Adjustments
from kpixl.errors import ContractError, Issue, WorkbookError
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
    GUARDRAIL_FIELDS,
    GUARDRAILS,
    KPI_FIELDS,
    KPIS,
    META,
    META_KEY_COL,
    META_VALUE_COL,
    PRICING,
    QUOTE,
    QUOTE_FIELDS,
    RATECARD,
    RATECARD_NAME_CELL,
    SCENARIO_ROWS,
    TIERS,
    Layout,
    cell,
    ratecard_names,
    sample_rate_card,
)
from kpixl.workbook.safety import check_package
from kpixl.workbook.template import template_schema, term_locations

CODE_NOT_KPIXL = "KX301"
CODE_OUTSIDE_TABLE = "KX318"  # an adjustment below the adjustments table
FEE_KEYS = ("base", "pool", "period_cap", "contract_cap")


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
    try:  # our own handle: openpyxl leaves its archive open when a load fails part-way
        with open(path, "rb") as handle, quiet_rewritten_styles():
            book = openpyxl.load_workbook(handle, data_only=False, read_only=False)
    except Exception as e:  # openpyxl raises many kinds for a broken package
        issue = Issue(path.name, CODE_NOT_KPIXL, f"cannot be read as a workbook: {e}")
        raise WorkbookError.from_issues([issue]) from e
    contract, actuals, adjustments = read_book(book, path.name)
    return contract, actuals, adjustments, read_scenario_inputs(book, contract)


def read_scenario_inputs(book: openpyxl.Workbook, contract: Contract) -> ScenarioInputs:
    """The scenario table's levels and CPS rate; a cell without a number reads as None.

    Args:
        book: the workbook as openpyxl loaded it (formulas, not values).
        contract: the contract the workbook holds.

    Returns:
        One level per scenario row and the CPS rate.
    """
    layout = Layout(contract)
    sheet = book[QUOTE]
    levels = tuple(_number(sheet[layout.scenario("level", i)].value) for i in range(SCENARIO_ROWS))
    pricing = _pricing(book, layout) if layout.priced else None
    return ScenarioInputs(levels, _number(sheet[layout.cps_rate_cell].value), pricing)


def _pricing(book: openpyxl.Workbook, layout: Layout) -> tuple[RateCard, QuoteInputs] | None:
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


def read_meta(book: openpyxl.Workbook) -> dict[str, str] | None:
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


def read_book(book: openpyxl.Workbook, name: str) -> tuple[Contract, Actuals, Adjustments]:
    """Read contract, actuals and adjustments from an opened workbook (formulas, not values).

    Args:
        book: the workbook as openpyxl loaded it.
        name: how issue locations name the file.

    Returns:
        (contract, actuals as read, adjustments as read).

    Raises:
        WorkbookError: not a kpixl workbook, or its inputs break a contract rule.
    """
    missing = [sheet for sheet in (QUOTE, KPIS, TIERS, GUARDRAILS, ACTUALS) if sheet not in book]
    if missing:
        issue = Issue(name, CODE_NOT_KPIXL, f"not a kpixl workbook: no sheet {missing[0]}")
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
    book: openpyxl.Workbook, contract: Contract, adjustments: Adjustments, name: str
) -> list[Issue]:
    """Adjustments typed below the adjustments table: its formulas' ranges leave them out."""
    table = Layout(contract, built_adjustment_rows(read_meta(book)))
    first = table.adjustment_header_row + 2  # 1-based rows, as Adjustment.line counts
    last = first + table.adjustment_rows - 1
    return [
        Issue(
            f"{name}:{ACTUALS}!{cell(row.line - 1, 0)}",
            CODE_OUTSIDE_TABLE,
            f"adjustment of period {row.period}, {row.metric}, is below the adjustments table "
            f"(rows {first}-{last}): the workbook's formulas leave it out; move it into the "
            "table, or rebuild with `kpixl quote --adjustments`",
        )
        for row in adjustments.rows
        if row.line > last
    ]


def _at(sheet: Worksheet, row: int, col: int) -> Any:
    """The value of a cell at a 0-based (row, col), as the layout counts them."""
    return sheet.cell(row + 1, col + 1).value


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _quote_section(book: openpyxl.Workbook, data: dict[str, Any]) -> dict[str, Any] | None:
    """The contract's ``quote`` section from the pricing inputs, when the workbook has them.

    The Pricing sheet's heading marks a priced workbook; platform and markets equal to the
    contract's read back as unset (their default), and the scenario levels are what-if inputs,
    not read.
    """
    if PRICING not in book:
        return None
    sheet = book[PRICING]
    heading = sheet[cell(Layout.pricing_first_row - 1, Layout.pricing_col)].value
    if _blank(heading):
        return None

    def value(key: str) -> Any:
        return _cell(sheet[Layout.pricing_cell(key)].value)

    names = ratecard_names("add_ons")
    keys = ("category_class", "integration", "languages", "term_months", "base_share")
    quote: dict[str, Any] = {
        "team": {role: value(f"team.{role}") for role in ROLES},
        "add_ons": [name for name in names if value(f"add_on.{name}")],
        **{key: value(key) for key in (*keys, "risk_premium", "cap_ratio")},
        "cps_rate": _cell(book[QUOTE][Layout.cps_rate_cell].value),
    }
    quote["team"] = {role: v for role, v in quote["team"].items() if not _blank(v)}
    if value("platform") != data.get("platform"):
        quote["platform"] = value("platform")
    if value("markets") != max(1, len(data.get("markets", []))):
        quote["markets"] = value("markets")
    return {key: v for key, v in quote.items() if not _blank(v)}


def _quote_fields(sheet: Worksheet) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, *_rest in QUOTE_FIELDS:
        fields[key] = _at(sheet, Layout.quote_row(key), Layout.quote_col)
    return fields


def _contract_data(book: openpyxl.Workbook) -> dict[str, Any]:
    q = _quote_fields(book[QUOTE])
    data: dict[str, Any] = {
        key: q[key]
        for key in (
            "id",
            "client",
            "provider",
            "currency",
            "platform",
            "period",
            "periods",
            "settlement",
            "clawback",
            "category",
            "revenue_kpi",
        )
        if not _blank(q[key])
    }
    data["start"] = _cell(q["start"])
    if not _blank(q["markets"]):
        data["markets"] = [m.strip() for m in str(q["markets"]).split(",") if m.strip()]
    data["currency_decimals"] = q["decimals"]
    quote = _quote_section(book, data)
    if quote is not None:
        data["quote"] = quote
    data["fee"] = {key: q[key] for key in FEE_KEYS if not _blank(q[key])}
    if not _blank(q["person_days"]):
        data["min_input"] = {"person_days": q["person_days"]}
    if not _blank(q["exit_threshold"]):
        data["exit"] = {"threshold": q["exit_threshold"], "consecutive": q["exit_consecutive"]}
    periods = int(q["periods"]) if isinstance(q["periods"], int | float) else 0
    data["kpis"] = _kpis(book, periods)
    data["guardrails"] = _guardrails(book[GUARDRAILS])
    return data


def _table(
    sheet: Worksheet, fields: tuple[tuple[str, Any, Any, Any, Any], ...]
) -> list[dict[str, Any]]:
    rows = []
    r = Layout.table_row(0)
    while not _blank(_at(sheet, r, 0)) or not _blank(_at(sheet, r, 1)):
        rows.append({f[0]: _at(sheet, r, c) for c, f in enumerate(fields)})
        r += 1
    return rows


def _measured(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not _blank(row.get("metric")):
        out["metric"] = row["metric"]
    if not _blank(row.get("ratio_num")):
        out["ratio"] = [row["ratio_num"], row["ratio_den"]]
    if not _blank(row.get("aggregate")):
        out["aggregate"] = row["aggregate"]
    return out


def _kpis(book: openpyxl.Workbook, periods: int) -> list[dict[str, Any]]:
    sheet = book[KPIS]
    rows = _table(sheet, KPI_FIELDS)
    head = Layout.target_block_row(len(rows))
    kpis = []
    for k, row in enumerate(rows):
        kpi: dict[str, Any] = {"code": row["code"], "name": row["name"] or ""}
        for key in (
            "name_zh",
            "unit",
            "direction",
            "weight",
            "threshold",
            "attainment_cap",
            "factor_cap",
            "source",
            "definition",
        ):
            if not _blank(row[key]):
                kpi[key] = row[key]
        kpi.update(_measured(row))
        series = {
            key: [_at(sheet, head + p, Layout.target_col(k, key)) for p in range(1, periods + 1)]
            for key in ("target", "ramp", "baseline")
        }
        targets = series["target"]
        kpi["target"] = targets[0] if len(set(targets)) == 1 else targets
        ramp = []
        for value in series["ramp"]:
            if _blank(value):
                break
            ramp.append(value)
        if ramp:
            kpi["ramp"] = ramp
        baselines = series["baseline"]
        if not all(_blank(b) for b in baselines):
            kpi["baseline"] = baselines[0] if len(set(baselines)) == 1 else baselines
        tiers = _tiers(book[TIERS], k)
        if not _blank(row["curve_mode"]):
            kpi["curve"] = {"mode": row["curve_mode"], "tiers": tiers}
        kpis.append(kpi)
    return kpis


def _tiers(sheet: Worksheet, k: int) -> list[dict[str, Any]]:
    tiers = []
    r = Layout.tier_first_row
    start, rate = Layout.tier_col(k, "from"), Layout.tier_col(k, "rate")
    while not _blank(_at(sheet, r, start)):
        tiers.append({"from": _at(sheet, r, start), "rate": _at(sheet, r, rate)})
        r += 1
    return tiers


def _guardrails(sheet: Worksheet) -> list[dict[str, Any]]:
    guardrails = []
    r = Layout.table_row(0)
    while not _blank(_at(sheet, r, Layout.guardrail_col("op"))):
        row = {f[0]: _at(sheet, r, c) for c, f in enumerate(GUARDRAIL_FIELDS)}
        guardrail = _measured(row)
        guardrail.update({"op": row["op"], "bound": row["bound"], "effect": row["effect"]})
        if not _blank(row["multiplier"]):
            guardrail["multiplier"] = row["multiplier"]
        guardrails.append(guardrail)
        r += 1
    return guardrails


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
        location = f"{name}:{where}" if where else issue.location
        located.append(Issue(location, issue.code, issue.message, issue.severity))
    return located


def _cells_by_key(data: dict[str, Any]) -> dict[str, str]:
    """Contract path (as the model names it) to ``Sheet!A1``, for the shape that was read."""
    kpis = data.get("kpis", [])
    tiers = [len((kpi.get("curve") or {}).get("tiers") or []) for kpi in kpis]
    periods = data.get("periods")
    n = periods if isinstance(periods, int) and periods > 0 else 0  # the target rows read
    return term_locations(len(kpis), len(data.get("guardrails", [])), n, tiers)
