"""Assemble the template schema of one contract from the layout and the cell formulas."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from typing import Any, Literal

from kpixl.engine.curve_words import point_count
from kpixl.model import Contract
from kpixl.workbook import cellformulas as cf
from kpixl.workbook.layout import (
    ACTUALS,
    ADJUSTMENT_HEADER,
    CATEGORY_CLASSES,
    CHECK,
    GUARDRAIL_FIELDS,
    GUARDRAILS,
    INTEGRATIONS,
    KPI_FIELDS,
    KPI_LINES,
    KPIS,
    LABELS,
    META,
    META_KEYS,
    META_VALUE_COL,
    MONEY,
    PACING,
    PERCENT,
    PLATFORMS,
    PRICING,
    PRICING_RESULTS,
    QUOTE,
    QUOTE_FIELDS,
    QUOTE_PRINT_COLS,
    QUOTE_TOTALS,
    RATECARD,
    RATECARD_FIRST_ROW,
    RATECARD_NAME_CELL,
    RATECARD_TABLES,
    SCENARIO_COLUMNS,
    SCENARIO_KPI_COLUMNS,
    SCENARIO_ROWS,
    SCHEMA_ID,
    SCHEMA_VERSION,
    SETTLEMENT,
    SIGNATURE_LINES,
    TARGET_FIELDS,
    TIERS,
    CellSpec,
    Column,
    Lang,
    Layout,
    Mode,
    PrintSpec,
    SheetSpec,
    TemplateSchema,
    ValueType,
    Variant,
    cell,
    label,
    pricing_inputs,
    ratecard_names,
    template_names,
)
from kpixl.workbook.pacing_sheet import PACING_WIDTHS, pacing_cells, pacing_label
from kpixl.workbook.proposal import proposal_label
from kpixl.workbook.review_sheet import review_cells, review_label, review_sheet
from kpixl.workbook.statement import (
    statement_cells,
    statement_label,
    statement_names,
    statement_sheet,
)

TIER_KEYS: tuple[Literal["from", "rate"], ...] = ("from", "rate")
CURVE_KEYS: tuple[Literal["x", "f"], ...] = ("x", "f")
MEASURE_LABELS: dict[str, tuple[str, str]] = {
    "x": ("", ""),
    "actual": ("actual", "实际"),
    "target": ("target", "目标"),
    "baseline": ("baseline", "基线"),
    "attainment": ("attainment", "达成率"),
    "factor": ("factor", "系数"),
    "payout": ("payout", "奖金"),
    "own": ("own-period attainment", "当期达成率"),
    "g": ("guardrail", "风控指标"),
}
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "period": ("Period", "结算期"),
    "p": ("#", "期次"),
    "n": ("Values entered", "已录入数"),
    "w": ("Weighted attainment W", "加权达成率"),
    "m": ("Guardrail multiplier", "风控系数"),
    "uncapped": ("Bonus before caps", "封顶前奖金"),
    "to_date": ("To-date bonus", "累计应付奖金"),
    "paid_before": ("Bonus paid before", "此前已付奖金"),
    "bonus": ("Bonus", "绩效奖金"),
    "base": ("Base fee", "基础服务费"),
    "total": ("Total fee", "总服务费"),
    "cum_bonus": ("Cumulative bonus", "累计奖金"),
    "miss": ("Miss", "未达标"),
    "streak": ("Misses in a row", "连续未达标"),
    "exit": ("Exit eligible", "可退出"),
}
#: Labels of the Quote pricing inputs (add-on flags are labelled by their name).
PRICING_LABELS: dict[str, tuple[str, str]] = {
    "team.senior_manager": ("Headcount: senior manager", "人数：高级经理"),
    "team.manager": ("Headcount: manager", "人数：经理"),
    "team.senior_specialist": ("Headcount: senior specialist", "人数：高级专员"),
    "team.specialist": ("Headcount: specialist", "人数：专员"),
    "team.junior": ("Headcount: junior", "人数：助理"),
    "platform": ("Platform", "平台"),
    "markets": ("Markets (count)", "市场数"),
    "category_class": ("Category class", "类目类别"),
    "integration": ("Data integration", "数据对接"),
    "languages": ("Extra languages", "额外语言数"),
    "term_months": ("Term (months)", "合同期限（月）"),
    "base_share": ("Base share s", "基础费占比 s"),
    "risk_premium": ("Risk premium r", "风险溢价 r"),
    "cap_ratio": ("Cap ratio", "封顶比例"),
    **{key: (en, zh) for key, en, zh in PRICING_RESULTS},
}
#: Value type and dropdown of each Quote pricing input (add-on flags: integer 0 / 1).
PRICING_TYPES: dict[str, tuple[ValueType, tuple[str, ...] | None]] = {
    "platform": ("text", PLATFORMS),
    "markets": ("integer", None),
    "category_class": ("text", CATEGORY_CLASSES),
    "integration": ("text", INTEGRATIONS),
    "languages": ("integer", None),
    "term_months": ("integer", None),
}
#: A metric of any unit: thousands, two decimals at least, four at most.
METRIC = "#,##0.00##"
RATIO = "0.0000"


def money_format(decimals: int) -> str:
    """The number format of an amount in the contract currency."""
    return "#,##0" if decimals == 0 else "#,##0." + "0" * decimals


def settlement_label(layout: Layout, key: str, lang: Lang) -> str:
    """The bilingual header of a Settlement column."""
    if key in COLUMN_LABELS:
        return label(*COLUMN_LABELS[key], lang)
    measure, _, name = key.partition(":")
    if measure == "x":
        return name
    if measure == "g":
        guardrail = layout.contract.guardrails[int(name)]
        metric = "/".join(guardrail.columns)
        en, zh = MEASURE_LABELS["g"]
        return label(f"{metric} ({en})", f"{metric}（{zh}）", lang)
    en, zh = MEASURE_LABELS[measure]
    return label(f"{name} {en}", f"{name} {zh}", lang)


def settlement_format(layout: Layout, key: str) -> str | None:  # noqa: PLR0911
    # One return per column family, in table order.
    """The number format of a Settlement column."""
    money = money_format(layout.contract.decimals)
    measure, _, name = key.partition(":")
    if key in ("miss", "exit"):
        return CHECK
    if key in ("n", "streak"):
        return "0"
    if measure in ("x", "g"):
        return METRIC
    if key in ("uncapped", "to_date", "paid_before", "bonus", "base", "total", "cum_bonus"):
        return money
    if measure == "payout":
        return money
    if measure in ("attainment", "own") or key == "w":
        return PERCENT
    if measure == "factor" or key == "m":
        return RATIO
    if measure in ("actual", "target", "baseline"):
        unit = layout.contract.kpi(name).unit
        return money if unit == "currency" else (PERCENT if unit == "percent" else METRIC)
    return None


#: Recent schemas by (contract as JSON, lang, adjustment rows): building a workbook and then
#: validating it (kpixl batch) asks twice for the same schema, which costs ~30 ms to make.
_RECENT: dict[tuple[str, str, int, str], TemplateSchema] = {}
_RECENT_SIZE = 8


def template_schema(
    contract: Contract, lang: Lang = "both", adjustment_rows: int = 0, variant: Variant = "full"
) -> TemplateSchema:
    """The template schema of one contract: sheets, defined names and every cell.

    Args:
        contract: the contract whose KPIs, guardrails and periods shape the sheets.
        lang: label language: ``en``, ``zh`` or ``both``.
        adjustment_rows: adjustments to make room for (spare rows are added).
        variant: ``full`` (the agency's workbook) or ``client`` (no internal pricing: no
            Pricing or RateCard sheet; the contract's quote section is left out).

    Returns:
        The schema the builder, the reader and the validator share (immutable, so shared).
    """
    if variant == "client":
        contract = client_terms(contract)
    # A workbook's reader states the currency's decimals explicitly: key on the same form.
    canonical = contract.model_copy(update={"currency_decimals": contract.decimals})
    key = (canonical.model_dump_json(), lang, adjustment_rows, variant)
    schema = _RECENT.get(key)
    if schema is None:
        schema = _make_schema(contract, lang, adjustment_rows, variant)
        if len(_RECENT) >= _RECENT_SIZE:
            _RECENT.pop(next(iter(_RECENT)))
        _RECENT[key] = schema
    return schema


def client_terms(contract: Contract) -> Contract:
    """The contract as the client copy holds it: without the internal quote section."""
    return contract if contract.quote is None else contract.model_copy(update={"quote": None})


def _make_schema(
    contract: Contract, lang: Lang, adjustment_rows: int, variant: Variant
) -> TemplateSchema:
    layout = Layout(contract, adjustment_rows)
    cells = [
        *_quote_cells(layout, lang),
        *_kpi_cells(layout, lang),
        *_tier_cells(layout, lang),
        *_guardrail_cells(layout, lang),
        *_actual_cells(layout, lang),
        *_settlement_cells(layout, lang),
        *statement_cells(layout),
        *pacing_cells(layout, lang),
        *review_cells(layout),
        *_pricing_cells(layout),
        *(_ratecard_cells(layout) if variant == "full" else ()),
        *[
            CellSpec(
                META,
                cell(i, META_VALUE_COL),
                f"meta.{key}",
                "fixed",
                "text",
                role="meta",
                field=key,
            )
            for i, key in enumerate(META_KEYS)
        ],
    ]
    sheets = tuple(
        sheet
        for sheet in _sheets(layout)
        if (sheet.name != PRICING or layout.priced)
        and (sheet.name != RATECARD or variant == "full")
    )
    names = {**template_names(layout), **statement_names(layout)}
    return TemplateSchema(
        SCHEMA_ID, SCHEMA_VERSION, contract.id, sheets, names, tuple(cells), variant
    )


def _period_marker(sheet: str, ref: str, key: str, p: int) -> CellSpec:
    """A cell naming the period of its row (``2027-01``): a marker, checked against moves."""
    return CellSpec(sheet, ref, key, "fixed", "text", role="marker", field=f"periods[{p}].label")


def _sheets(layout: Layout) -> tuple[SheetSpec, ...]:
    n_set = len(layout.settlement_columns)
    return (
        SheetSpec(
            QUOTE,
            freeze=(2, 0),
            widths=_quote_widths(layout),
            printing=PrintSpec(
                portrait=True,
                area=(0, 0, layout.print_last_row, QUOTE_PRINT_COLS - 1),
                repeat_rows=(0, 1),
                breaks=(layout.kpi_terms_row,),
                header_footer=True,
            ),
        ),
        SheetSpec(
            KPIS,
            freeze=(1, 1),
            widths=((0, 12), (1, 24), (2, 18), (14, 40), (15, 40)),
            header_row=0,
            headers=tuple(f[0] for f in KPI_FIELDS),
        ),
        SheetSpec(TIERS, freeze=(2, 0), widths=tuple((c, 12.0) for c in range(2 * layout.k))),
        SheetSpec(
            GUARDRAILS,
            freeze=(1, 0),
            widths=((0, 16), (1, 16), (2, 16)),
            header_row=0,
            headers=tuple(f[0] for f in GUARDRAIL_FIELDS),
        ),
        SheetSpec(
            ACTUALS,
            freeze=(1, 1),
            widths=((0, 12),),
            header_row=0,
            headers=("period", *layout.metrics),
        ),
        SheetSpec(
            SETTLEMENT,
            freeze=(1, 1),
            widths=tuple((c, 14.0) for c in range(n_set)),
            header_row=0,
            headers=layout.settlement_columns,
            printing=PrintSpec(repeat_rows=(0, 0), header_footer=True),
            groups=settlement_groups(layout),
        ),
        statement_sheet(layout),
        SheetSpec(PACING, widths=PACING_WIDTHS),
        review_sheet(layout),
        SheetSpec(PRICING, freeze=(1, 0), widths=((0, 36), (1, 16))),
        SheetSpec(
            RATECARD,
            freeze=(2, 0),
            widths=tuple(
                (3 * t + c, width)
                for t in range(len(RATECARD_TABLES))
                for c, width in ((0, 20.0), (1, 14.0))
            ),
        ),
        SheetSpec(META, state="veryHidden", widths=((0, 16), (1, 70))),
    )


#: Settlement columns a reader skips on the way from the period to its total: grouped and
#: collapsed (the outline's + opens them).
HELPER_COLUMNS = ("p", "n", "x", "baseline", "own", "g", "uncapped", "to_date", "paid_before")


def settlement_groups(layout: Layout) -> tuple[tuple[int, int], ...]:
    """Runs of helper columns on Settlement, (first, last), for the outline."""
    runs: list[tuple[int, int]] = []
    for c, key in enumerate(layout.settlement_columns):
        if key.partition(":")[0] not in HELPER_COLUMNS and key != "streak":
            continue
        if runs and runs[-1][1] == c - 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    return tuple(runs)


def _quote_widths(layout: Layout) -> tuple[tuple[int, float], ...]:
    """Printed columns: labels, then amounts (about 120 characters: A4 portrait at ~80 %)."""
    printed = ((0, 35.0), (1, 15.0), *((c, 12.5) for c in range(2, QUOTE_PRINT_COLS)))
    helpers = layout.curve_col(layout.k - 1, "f") + 1 - layout.scenario_kpi_first_col
    return (*printed, *((layout.scenario_kpi_first_col + c, 11.0) for c in range(helpers)))


def _quote_cells(layout: Layout, lang: Lang) -> list[CellSpec]:
    """The proposal (SPEC §7): header, fee line, scenarios, KPI terms, terms, signatures."""
    d = layout.contract.decimals
    money = money_format(d)
    cells = [
        CellSpec(QUOTE, "A1", "label.quote_title", "fixed", "text", role="label"),
        CellSpec(
            QUOTE,
            "A2",
            "label.proposal.prepared",
            "fixed",
            "text",
            span=QUOTE_PRINT_COLS,
            role="label",
        ),
    ]
    for key, *_rest in QUOTE_FIELDS:
        row = layout.quote_row(key)
        cells.append(
            CellSpec(QUOTE, cell(row, 0), f"label.quote.{key}", "fixed", "text", role="label")
        )
        cells.append(quote_term_cell(key, money))
    cells += [
        CellSpec(
            QUOTE,
            cell(layout.fee_heading_row, 0),
            "label.fee_structure",
            "fixed",
            "text",
            role="label",
        ),
        _text(cell(layout.fee_line_row, 0), "label.proposal.fee_line", QUOTE_PRINT_COLS),
    ]
    cells += _scenario_cells(layout) + _terms_cells(layout) + _working_cells(layout, money)
    return cells


def _text(ref: str, key: str, span: int) -> CellSpec:
    """A proposal text spanning ``span`` columns from ``ref``."""
    return CellSpec(QUOTE, ref, key, "fixed", "text", span=span, role="label")


def _terms_cells(layout: Layout) -> list[CellSpec]:
    """Page 2 of the proposal: each KPI's terms, the other terms, curves and signatures."""
    wide = QUOTE_PRINT_COLS - 1
    cells = [
        CellSpec(
            QUOTE, cell(layout.kpi_terms_row, 0), "label.kpi_terms", "fixed", "text", role="label"
        )
    ]
    for k in range(layout.k):
        for line in KPI_LINES:
            row = layout.kpi_line_row(k, line)
            name = f"label.proposal.kpi[{k}].name"
            name = name if line == "title" else f"label.proposal.kpi_line.{line}"
            cells.append(CellSpec(QUOTE, cell(row, 0), name, "fixed", "text", role="label"))
            cells.append(_text(cell(row, 1), f"label.proposal.kpi[{k}].{line}", wide))
    cells.append(
        CellSpec(QUOTE, cell(layout.terms_row, 0), "label.terms", "fixed", "text", role="label")
    )
    for key in layout.term_keys:
        row = layout.term_row(key)
        name = f"label.proposal.term.{key}.name"
        cells.append(CellSpec(QUOTE, cell(row, 0), name, "fixed", "text", role="label"))
        cells.append(_text(cell(row, 1), f"label.proposal.term.{key}.text", wide))
    cells.append(
        CellSpec(QUOTE, cell(layout.curves_row, 0), "label.curves", "fixed", "text", role="label")
    )
    head = layout.curve_header_row
    cells.append(
        CellSpec(
            QUOTE,
            cell(head - 1, layout.curve_col(0, "x")),
            "label.curve_points",
            "fixed",
            "text",
            role="label",
        )
    )
    for k, kpi in enumerate(layout.contract.kpis):
        ref = cell(head, layout.curve_col(k, "x"))
        cells.append(
            CellSpec(QUOTE, ref, f"label.proposal.curve.{k}", "fixed", "text", role="label")
        )
        for i in range(point_count(kpi)):
            for key in CURVE_KEYS:
                ref = layout.curve_point(k, key, i)
                fmt = RATIO if key == "f" else PERCENT
                key_ = f"curve[{k}].{key}[{i}]"
                spec = CellSpec(
                    QUOTE, ref, key_, "fixed", number_format=fmt, role="marker", field=key_
                )
                cells.append(spec)
    cells.append(
        CellSpec(
            QUOTE, cell(layout.signature_row, 0), "label.signature", "fixed", "text", role="label"
        )
    )
    half = QUOTE_PRINT_COLS // 2
    for line in SIGNATURE_LINES:
        row = layout.signature_line_row(line)
        for side, col in (("client", 0), ("provider", half)):
            key = f"label.proposal.sign.{line}.{side}"
            cells.append(_text(cell(row, col), key, half))
    return cells


def _working_cells(layout: Layout, money: str) -> list[CellSpec]:
    """Below the printed proposal: the settled fee totals and the fee per period."""
    row = layout.summary_row
    cells = [
        CellSpec(QUOTE, cell(row - 1, 0), "label.working", "fixed", "text", role="label"),
        CellSpec(QUOTE, cell(row, 0), "label.fee_summary", "fixed", "text", role="label"),
    ]
    for i, key in enumerate(("base", "bonus", "total")):
        ref = f"{SETTLEMENT}!{layout.total(key, True)}"  # type: ignore[arg-type]
        cells.append(
            CellSpec(
                QUOTE, cell(row + 1 + i, 0), f"label.total_{key}", "fixed", "text", role="label"
            )
        )
        cells.append(
            CellSpec(
                QUOTE,
                layout.quote_total(key),
                f"quote.total_{key}",
                "formula",
                native=ref,
                udf=ref,
                number_format=money,
                role="formula",
                field=f"settlement.total.{key}",
            )
        )
    head = layout.per_period_row
    cells.append(
        CellSpec(QUOTE, cell(head - 1, 0), "label.per_period", "fixed", "text", role="label")
    )
    for c, key in enumerate(("period", "base", "bonus", "total")):
        cells.append(
            CellSpec(QUOTE, cell(head, c), f"label.per_period.{key}", "fixed", "text", role="label")
        )
    for p in range(1, layout.n + 1):
        cells.append(_period_marker(QUOTE, cell(head + p, 0), f"quote.period[{p}]", p))
        for key in QUOTE_TOTALS:
            ref = f"{SETTLEMENT}!{layout.s(key, p)}"
            cells.append(
                CellSpec(
                    QUOTE,
                    layout.quote_period(key, p),
                    f"quote.{key}[{p}]",
                    "formula",
                    native=ref,
                    udf=ref,
                    number_format=money,
                    role="formula",
                    field=f"settlement[{p}].{key}",
                )
            )
    return cells


def _pricing_cells(layout: Layout) -> list[CellSpec]:
    """The quote's pricing inputs and the SPEC §6 list price, base, pool and cap (with a quote)."""
    if not layout.priced:
        return []
    col, money = layout.pricing_col, money_format(layout.contract.decimals)
    cells = [
        CellSpec(
            PRICING,
            layout.pricing_heading_cell,
            "label.quote_pricing",
            "fixed",
            "text",
            role="label",
        )
    ]
    for key in pricing_inputs():
        row = layout.pricing_row(key)
        cells.append(
            CellSpec(PRICING, cell(row, col), f"label.pricing.{key}", "fixed", "text", role="label")
        )
        cells.append(pricing_input_cell(key))
    for key, _en, _zh in PRICING_RESULTS:
        row = layout.pricing_row(key)
        cells.append(
            CellSpec(PRICING, cell(row, col), f"label.pricing.{key}", "fixed", "text", role="label")
        )
        cells.append(
            CellSpec(
                PRICING,
                layout.pricing_cell(key),
                f"pricing.{key}",
                "formula",
                native=cf.pricing_formula(layout, key, "native"),
                udf=cf.pricing_formula(layout, key, "udf"),
                number_format=PERCENT if key == "term_discount" else money,
                role="formula",
                field=f"pricing.{key}",
            )
        )
    return cells


def _scenario_format(key: str, decimals: int) -> str:
    """The number format of a scenario column (table or per-KPI helper)."""
    if key in ("level", "fee_share", "attainment"):
        return PERCENT
    return RATIO if key == "factor" else money_format(decimals)


def _scenario_cells(layout: Layout) -> list[CellSpec]:
    """The scenario table of SPEC §6: a CPS rate input, then one row per level."""
    d = layout.contract.decimals
    head = layout.scenario_header_row
    cells = [
        CellSpec(
            QUOTE,
            cell(layout.scenario_heading_row, 0),
            "label.scenarios",
            "fixed",
            "text",
            role="label",
        ),
        CellSpec(
            QUOTE,
            cell(layout.scenario_note_row, 0),
            "label.pricing_note",
            "fixed",
            "text",
            role="label",
        ),
        CellSpec(
            QUOTE, cell(layout.scenario_cps_row, 0), "label.cps_rate", "fixed", "text", role="label"
        ),
        CPS_RATE_CELL,
        CellSpec(
            QUOTE,
            cell(head - 1, layout.scenario_kpi_first_col),
            "label.scenario_kpis",
            "fixed",
            "text",
            role="label",
        ),
    ]
    for key, _en, _zh in SCENARIO_COLUMNS:
        ref = cell(head, layout.scenario_col(key))
        cells.append(CellSpec(QUOTE, ref, f"label.scenario.{key}", "fixed", "text", role="label"))
    for k in range(layout.k):
        for key, _en, _zh in SCENARIO_KPI_COLUMNS:
            ref = cell(head, layout.scenario_kpi_col(k, key))
            cells.append(
                CellSpec(
                    QUOTE, ref, f"label.scenario_kpi[{k}].{key}", "fixed", "text", role="label"
                )
            )
    for i in range(SCENARIO_ROWS):
        level = layout.scenario("level", i)
        cells.append(
            CellSpec(
                QUOTE,
                level,
                f"scenario[{i}].level",
                "input",
                number_format=PERCENT,
                role="what_if",
                field=f"scenario[{i}].level",
            )
        )
        for key, _en, _zh in SCENARIO_COLUMNS[1:]:
            cells.append(
                CellSpec(
                    QUOTE,
                    layout.scenario(key, i),
                    f"scenario[{i}].{key}",
                    "formula",
                    native=cf.scenario_formula(layout, key, i, "native"),
                    udf=cf.scenario_formula(layout, key, i, "udf"),
                    number_format=_scenario_format(key, d),
                    role="formula",
                    field=f"scenario[{i}].{key}",
                )
            )
        for k, kpi in enumerate(layout.contract.kpis):
            for key, _en, _zh in SCENARIO_KPI_COLUMNS:
                cells.append(
                    CellSpec(
                        QUOTE,
                        layout.scenario_kpi(k, key, i),
                        f"scenario[{i}].{key}:{kpi.code}",
                        "formula",
                        native=cf.scenario_kpi_formula(layout, k, key, i, "native"),
                        udf=cf.scenario_kpi_formula(layout, k, key, i, "udf"),
                        number_format=_scenario_format(key, d),
                        role="formula",
                        field=f"scenario[{i}].kpis[{k}].{key}",
                    )
                )
    return cells


def _kpi_cells(layout: Layout, lang: Lang) -> list[CellSpec]:
    cells = []
    for c, (key, *_rest) in enumerate(KPI_FIELDS):
        cells.append(CellSpec(KPIS, cell(0, c), f"label.kpi.{key}", "fixed", "text", role="label"))
    for k in range(layout.k):
        for key, *_rest in KPI_FIELDS:
            cells.append(kpi_term_cell(k, key))
    head = layout.target_header_row
    cells.append(CellSpec(KPIS, cell(head - 1, 0), "label.targets", "fixed", "text", role="label"))
    cells.append(
        CellSpec(KPIS, cell(head, 0), "label.targets.period", "fixed", "text", role="label")
    )
    for k in range(layout.k):
        for key, _en, _zh in TARGET_FIELDS:
            col = layout.target_col(k, key)
            cells.append(
                CellSpec(
                    KPIS,
                    cell(head, col),
                    f"label.targets[{k}].{key}",
                    "fixed",
                    "text",
                    role="label",
                )
            )
    for p in range(1, layout.n + 1):
        row = layout.target_row(p)
        cells.append(_period_marker(KPIS, cell(row, 0), f"targets.period[{p}]", p))
        for k in range(layout.k):
            for key, _en, _zh in TARGET_FIELDS:
                ref = cell(row, layout.target_col(k, key))
                where = f"kpis[{k}].{key}[{p}]"
                if key == "effective":
                    formula = cf.effective_target(layout, k, p)
                    cells.append(
                        CellSpec(
                            KPIS,
                            ref,
                            where,
                            "formula",
                            native=formula,
                            udf=formula,
                            role="formula",
                            field=where,
                        )
                    )
                else:
                    cells.append(target_term_cell(layout.k, k, key, p))
    return cells


def _tier_cells(layout: Layout, lang: Lang) -> list[CellSpec]:
    cells = []
    for k in range(layout.k):
        code = cell(layout.tier_code_row, layout.tier_col(k, "from"))
        cells.append(
            CellSpec(
                TIERS,
                code,
                f"tiers[{k}].code",
                "fixed",
                "text",
                role="marker",
                field=f"kpis[{k}].code",
            )
        )
        for key in TIER_KEYS:
            ref = cell(layout.tier_header_row, layout.tier_col(k, key))
            cells.append(
                CellSpec(TIERS, ref, f"label.tiers[{k}].{key}", "fixed", "text", role="label")
            )
        for i in range(layout.tier_counts[k]):
            for key in TIER_KEYS:
                cells.append(tier_term_cell(k, i, key))
    return cells


def _guardrail_cells(layout: Layout, lang: Lang) -> list[CellSpec]:
    cells = []
    for c, (key, *_rest) in enumerate(GUARDRAIL_FIELDS):
        cells.append(
            CellSpec(
                GUARDRAILS, cell(0, c), f"label.guardrail.{key}", "fixed", "text", role="label"
            )
        )
    for j in range(layout.g):
        for key, *_rest in GUARDRAIL_FIELDS:
            cells.append(guardrail_term_cell(j, key))
    return cells


def _actual_cells(layout: Layout, lang: Lang) -> list[CellSpec]:
    cells = [
        CellSpec(
            ACTUALS,
            "A1",
            "actuals.header.period",
            "fixed",
            "text",
            role="marker",
            field="actuals.header.period",
        )
    ]
    for m in layout.metrics:
        cells.append(
            CellSpec(
                ACTUALS,
                cell(layout.actuals_header_row, layout.actual_col(m)),
                f"actuals.header.{m}",
                "fixed",
                "text",
                role="marker",
                field=f"actuals.header.{m}",
            )
        )
    for p in range(1, layout.n + 1):
        cells.append(_period_marker(ACTUALS, cell(p, 0), f"actuals.period[{p}]", p))
        for m in layout.metrics:
            cells.append(
                CellSpec(
                    ACTUALS,
                    cell(p, layout.actual_col(m)),
                    f"actuals[{p}].{m}",
                    "input",
                    "number",
                    role="actuals",
                    field=f"actuals[{p}].{m}",
                )
            )
    head = layout.adjustment_header_row
    cells.append(
        CellSpec(ACTUALS, cell(head - 1, 0), "label.adjustments", "fixed", "text", role="label")
    )
    for c, key in enumerate(ADJUSTMENT_HEADER):
        cells.append(
            CellSpec(
                ACTUALS,
                cell(head, c),
                f"adjustments.header.{key}",
                "fixed",
                "text",
                role="marker",
                field=f"adjustments.header.{key}",
            )
        )
    for i in range(layout.adjustment_rows):
        for c, key in enumerate(ADJUSTMENT_HEADER):
            kind: ValueType = "number" if key == "value" else "text"
            ref = cell(head + 1 + i, c)
            where = f"adjustments[{i}].{key}"
            cells.append(CellSpec(ACTUALS, ref, where, "input", kind, role="actuals", field=where))
    return cells


def _settlement_cells(layout: Layout, lang: Lang) -> list[CellSpec]:
    cells = []
    for c, key in enumerate(layout.settlement_columns):
        cells.append(
            CellSpec(
                SETTLEMENT, cell(0, c), f"label.settlement.{key}", "fixed", "text", role="label"
            )
        )
    for p in range(1, layout.n + 1):
        for key in layout.settlement_columns:
            ref = layout.s(key, p)
            where = f"settlement[{p}].{key}"
            if key == "period":
                cells.append(_period_marker(SETTLEMENT, ref, where, p))
            elif key == "p":
                cells.append(
                    CellSpec(
                        SETTLEMENT,
                        ref,
                        where,
                        "fixed",
                        "integer",
                        role="marker",
                        field=f"periods[{p}].index",
                    )
                )
            else:
                kind = "integer" if key in ("miss", "exit") else "number"
                cells.append(
                    CellSpec(
                        SETTLEMENT,
                        ref,
                        where,
                        "formula",
                        kind,  # type: ignore[arg-type]
                        native=cf.settlement_formula(layout, key, p, "native"),
                        udf=cf.settlement_formula(layout, key, p, "udf"),
                        number_format=settlement_format(layout, key),
                        role="formula",
                        field=where,
                    )
                )
    money = money_format(layout.contract.decimals)
    cells.append(
        CellSpec(
            SETTLEMENT, cell(layout.total_row, 0), "label.total_row", "fixed", "text", role="label"
        )
    )
    totals: tuple[Literal["base", "bonus", "total"], ...] = ("base", "bonus", "total")
    for key in totals:
        cells.append(
            CellSpec(
                SETTLEMENT,
                layout.total(key),
                f"settlement.total.{key}",
                "formula",
                native=cf.total_formula(layout, key, "native"),
                udf=cf.total_formula(layout, key, "udf"),
                number_format=money,
                role="formula",
                field=f"settlement.total.{key}",
            )
        )
    return cells


def _ratecard_cells(layout: Layout) -> list[CellSpec]:
    """The rate card's name, then editable tables: fixed names beside input values (term
    tiers: both)."""
    # The card's name, as an input: the shipped card's says SAMPLE, an agency's its own.
    cells = [
        CellSpec(
            RATECARD,
            RATECARD_NAME_CELL,
            "ratecard.name",
            "input",
            "text",
            role="what_if",
            field="ratecard.name",
        )
    ]
    for table, *_labels in RATECARD_TABLES:
        col = layout.ratecard_col(table)
        head = RATECARD_FIRST_ROW - 1
        cells.append(
            CellSpec(
                RATECARD,
                cell(head, col),
                f"label.ratecard.{table}.name",
                "fixed",
                "text",
                role="label",
            )
        )
        cells.append(
            CellSpec(
                RATECARD,
                cell(head, col + 1),
                f"label.ratecard.{table}.value",
                "fixed",
                "text",
                role="label",
            )
        )
        tiers = table == "term_discounts"
        for i, _name in enumerate(ratecard_names(table)):
            cells.append(
                CellSpec(
                    RATECARD,
                    layout.ratecard_cell(table, i, "name"),
                    f"ratecard.{table}[{i}].name",
                    "input" if tiers else "fixed",
                    "integer" if tiers else "text",
                    role="what_if" if tiers else "marker",
                    field=f"ratecard.{table}[{i}].name",
                )
            )
            fmt = PERCENT if tiers else None
            cells.append(
                CellSpec(
                    RATECARD,
                    layout.ratecard_cell(table, i, "value"),
                    f"ratecard.{table}[{i}].value",
                    "input",
                    number_format=fmt,
                    role="what_if",
                    field=f"ratecard.{table}[{i}].value",
                )
            )
    return cells


_QUOTE_COLUMNS = {column.key: column for column in QUOTE_FIELDS}


def quote_term_cell(key: str, money: str | None = None) -> CellSpec:
    """The Quote cell of a contract header field (``money``: the amounts' number format)."""
    column = _QUOTE_COLUMNS[key]
    return CellSpec(
        QUOTE,
        cell(Layout.quote_row(key), Layout.quote_col),
        f"quote.{key}",
        "input",
        column.value_type,
        number_format=money if column.number_format == MONEY else column.number_format,
        validation=column.choices,
        role="term",
        field=column.path,
    )


def kpi_term_cell(k: int, key: str) -> CellSpec:
    """The KPI table cell of KPI k's field ``key``."""
    return _table_term_cell(KPIS, "kpis", k, Layout.kpi_col(key), KPI_FIELDS, key)


def target_term_cell(kpis: int, k: int, key: str, p: int) -> CellSpec:
    """KPI k's target, ramp or baseline cell of period p (1-based) under a table of ``kpis``."""
    ref = cell(Layout.target_block_row(kpis) + p, Layout.target_col(k, key))
    path = f"kpis[{k}].{key}[{p - 1}]"  # the contract's series count from 0
    return CellSpec(KPIS, ref, f"kpis[{k}].{key}[{p}]", "input", "number", role="term", field=path)


def tier_term_cell(k: int, i: int, key: Literal["from", "rate"]) -> CellSpec:
    """Tier i's ``from`` or ``rate`` cell of KPI k's curve."""
    return CellSpec(
        TIERS,
        cell(Layout.tier_first_row + i, Layout.tier_col(k, key)),
        f"kpis[{k}].tiers[{i}].{key}",
        "input",
        "number",
        role="term",
        field=f"kpis[{k}].curve.tiers[{i}].{key}",
    )


def guardrail_term_cell(j: int, key: str) -> CellSpec:
    """The Guardrails table cell of guardrail j's field ``key``."""
    return _table_term_cell(
        GUARDRAILS, "guardrails", j, Layout.guardrail_col(key), GUARDRAIL_FIELDS, key
    )


def _table_term_cell(
    sheet: str, items: str, i: int, col: int, fields: Sequence[Column], key: str
) -> CellSpec:
    """Row i's cell of a KPI or guardrail table: field ``key`` in column ``col``."""
    column = fields[col]
    return CellSpec(
        sheet,
        cell(Layout.table_row(i), col),
        f"{items}[{i}].{key}",
        "input",
        column.value_type,
        number_format=column.number_format,
        validation=column.choices,
        role="term",
        field=f"{items}[{i}].{column.path}",
    )


def pricing_input_cell(key: str) -> CellSpec:
    """The Pricing cell of a pricing input (a what-if for sales; the contract's quote terms)."""
    kind, choices = PRICING_TYPES.get(key, ("number", None))
    kind = "integer" if key.startswith("add_on.") else kind
    return CellSpec(
        PRICING,
        Layout.pricing_cell(key),
        f"pricing.{key}",
        "input",
        kind,
        number_format=PERCENT if key in ("base_share",) else None,
        validation=choices,
        role="what_if",
        field=f"pricing.{key}",
    )


#: The CPS rate input of the scenario table (the contract's ``quote.cps_rate`` when priced).
CPS_RATE_CELL = CellSpec(
    QUOTE,
    Layout.cps_rate_cell,
    "scenario.cps_rate",
    "input",
    number_format=PERCENT,
    role="what_if",
    field="scenario.cps_rate",
)
#: The target-block series that are inputs (the effective target is a formula).
TARGET_INPUTS = ("target", "ramp", "baseline")


def term_cells(
    kpis: int,
    guardrails: int,
    periods: int = 0,
    tiers: Sequence[int] = (),
    money: str | None = None,
) -> tuple[CellSpec, ...]:
    """Every term cell of a workbook of this shape, in template order: the one table the
    template's term cells are made from and the reader walks (a test keeps them equal).

    Args:
        kpis: KPI table rows.
        guardrails: guardrail table rows.
        periods: target block rows.
        tiers: curve tiers per KPI (missing KPIs: none).
        money: the number format of the Quote amounts (the reader needs none).
    """
    cells = [quote_term_cell(key, money) for key, *_rest in QUOTE_FIELDS]
    for k in range(kpis):
        cells += [kpi_term_cell(k, key) for key, *_rest in KPI_FIELDS]
    for p in range(1, periods + 1):
        for k in range(kpis):
            cells += [target_term_cell(kpis, k, key, p) for key in TARGET_INPUTS]
    for k in range(kpis):
        for i in range(tiers[k] if k < len(tiers) else 0):
            cells += [tier_term_cell(k, i, key) for key in TIER_KEYS]
    for j in range(guardrails):
        cells += [guardrail_term_cell(j, key) for key, *_rest in GUARDRAIL_FIELDS]
    return tuple(cells)


def term_locations(
    kpis: int, guardrails: int, periods: int = 0, tiers: Sequence[int] = ()
) -> dict[str, str]:
    """Contract path to ``Sheet!A1`` of every term cell of a workbook of this shape.

    The reader points a contract issue (``kpis[1].weight``) at its cell with it before a
    contract exists to lay out: the cells of :func:`term_cells`. A path naming a pair
    (``kpis[0].ratio``) points at the pair's first cell.
    """
    out = {
        str(spec.field): f"{spec.sheet}!{spec.ref}"
        for spec in term_cells(kpis, guardrails, periods, tiers)
    }
    for path, where in list(out.items()):
        if path.endswith("[0]"):
            out.setdefault(path.removesuffix("[0]"), where)
    return out


#: The label fields of the quote, KPI, guardrail and target tables, by key.
_LABEL_TABLES = (QUOTE_FIELDS, KPI_FIELDS, GUARDRAIL_FIELDS, TARGET_FIELDS)
_LABEL_FIELDS = tuple({f[0]: f for f in table} for table in _LABEL_TABLES)


def fixed_label(key: str, layout: Layout, lang: Lang) -> str | None:  # noqa: PLR0911
    # One branch per label family that reads the layout (the others: _plain_label): flat.
    """The text of a label cell, by its schema key (None when the key is not a label)."""
    if not key.startswith("label."):
        return None
    name = key.removeprefix("label.")
    plain = _plain_label(name, lang)
    if plain is not None:
        return plain
    kind, _, rest = name.partition(".")
    if kind == "proposal":
        return proposal_label(rest, layout, lang)
    if kind == "settlement":
        return settlement_label(layout, rest, lang)
    if kind == "pacing":
        return pacing_label(rest, layout, lang)
    if kind == "statement":
        return statement_label(rest, layout, lang)
    if kind == "review":
        return review_label(rest, layout, lang)
    if kind.startswith("scenario_kpi["):
        code = layout.contract.kpis[int(kind[len("scenario_kpi[") : -1])].code
        en, zh = _SCENARIO_KPI_LABELS[rest]
        return label(f"{code} {en}", f"{code} {zh}", lang)
    if kind.startswith("targets["):
        k = int(kind[len("targets[") : -1])
        field = _LABEL_FIELDS[3][rest]
        code = layout.contract.kpis[k].code
        return label(f"{code} {field[1]}", f"{code} {field[2]}", lang)
    return name


_SCENARIO_LABELS = {f[0]: (f[1], f[2]) for f in SCENARIO_COLUMNS}
_SCENARIO_KPI_LABELS = {f[0]: (f[1], f[2]) for f in SCENARIO_KPI_COLUMNS}
_RATECARD_LABELS = {t[0]: t[1:] for t in RATECARD_TABLES}


@functools.lru_cache(maxsize=8192)
def _plain_label(name: str, lang: Lang) -> str | None:  # noqa: C901, PLR0911
    # One return per label family whose text is the key's and the language's alone.
    """The text of a label that depends on nothing but its name and the language, else None
    (the label families that read the layout are :func:`fixed_label`'s)."""
    fields, kpi_fields, guard_fields, _target_fields = _LABEL_FIELDS
    if name in LABELS:
        return label(*LABELS[name], lang)
    kind, _, rest = name.partition(".")
    if kind == "quote" and rest in fields:
        return label(fields[rest][1], fields[rest][2], lang)
    if name in ("total_bonus", "total_total"):
        return label(*LABELS["total_fee" if name == "total_total" else name], lang)
    if kind == "kpi":
        return label(kpi_fields[rest][1], kpi_fields[rest][2], lang)
    if kind == "guardrail":
        return label(guard_fields[rest][1], guard_fields[rest][2], lang)
    if kind == "per_period":
        names = {
            "period": LABELS["period"],
            "base": LABELS["total_base"],
            "bonus": LABELS["total_bonus"],
            "total": LABELS["total_fee"],
        }
        return label(*names[rest], lang)
    if kind == "scenario":
        return label(*_SCENARIO_LABELS[rest], lang)
    if kind == "ratecard":
        table, _, which = rest.partition(".")
        en, zh, en_value, zh_value = _RATECARD_LABELS[table]
        return label(en, zh, lang) if which == "name" else label(en_value, zh_value, lang)
    if kind == "pricing":
        if rest.startswith("add_on."):
            name = rest.removeprefix("add_on.")
            return label(f"Add-on: {name} (1 = yes)", f"增值服务：{name}（1 = 是）", lang)
        return label(*PRICING_LABELS[rest], lang)
    if name == "targets.period":
        return label(*LABELS["period"], lang)
    if kind.startswith("tiers["):
        return label("from", "起点", lang) if rest == "from" else label("rate", "系数", lang)
    return None


def formula_text(spec: CellSpec, mode: Mode) -> str:
    """The formula of a cell in a mode, with its leading ``=``."""
    text = spec.udf if mode == "udf" else spec.native
    return "=" + (text or "")


def fingerprint(schema: TemplateSchema, mode: Mode) -> str:
    """SHA-256 over every formula cell's sheet, address and formula text, in schema order."""
    known = _FINGERPRINTS.get((id(schema.cells), mode))
    if known is not None and known[0] is schema.cells:  # schemas of one shape share their cells
        return known[1]
    digest = hashlib.sha256()
    for spec in schema.formula_cells():
        digest.update(f"{spec.sheet}!{spec.ref}={formula_text(spec, mode)}\n".encode())
    if len(_FINGERPRINTS) >= _RECENT_SIZE:
        _FINGERPRINTS.pop(next(iter(_FINGERPRINTS)))
    _FINGERPRINTS[id(schema.cells), mode] = (schema.cells, digest.hexdigest())
    return digest.hexdigest()


#: Recent fingerprints by the identity of the schema's cells (kept alive beside their digest).
_FINGERPRINTS: dict[tuple[int, str], tuple[tuple[CellSpec, ...], str]] = {}


def template_json_schema() -> dict[str, Any]:
    """The JSON Schema of a template schema document (``kpixl schema template``)."""
    from pydantic import TypeAdapter

    schema: dict[str, Any] = TypeAdapter(TemplateSchema).json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "kpixl workbook template schema"
    return schema
