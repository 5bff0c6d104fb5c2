"""The template schema: every sheet, cell address, label, input and formula of the workbook."""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple, get_args

from kpixl.actuals import ADJUSTMENT_COLUMNS
from kpixl.errors import Issue
from kpixl.model import (
    Aggregate,
    Contract,
    CurveMode,
    Direction,
    Effect,
    Op,
    PeriodKind,
    SettlementMode,
    Unit,
)
from kpixl.ratecard import (
    ROLES,
    CategoryClass,
    Integration,
    Platform,
    RateCard,
    RateCardError,
    load_rate_card,
)
from kpixl.workbook.ooxml import column_letters

CODE_CARD_MISFIT = "KX127"  # a rate card whose rows the RateCard sheet does not have
SCHEMA_ID = "kpixl.quote-workbook"
#: Bumped by any change to the template's sheets, cells or formulas once a kpixl release has
#: written workbooks; before the first release (0.1.0 is unreleased) it stays "1".
SCHEMA_VERSION = "1"
Lang = Literal["en", "zh", "both"]
Mode = Literal["native", "udf"]
ValueType = Literal["text", "number", "integer", "date", "bool"]
Kind = Literal["input", "formula", "fixed"]
#: What a cell means: a contract term, a what-if input for sales (scenarios, pricing, the rate
#: card), an actual or adjustment, a label, a fixed row/column marker (period names, headers,
#: KPI codes), an entry of the ``_kpixl`` sheet, or a formula.
Role = Literal["term", "what_if", "actuals", "label", "marker", "meta", "formula"]

QUOTE, KPIS, TIERS, GUARDRAILS, ACTUALS, SETTLEMENT, RATECARD, META = (
    "Quote",
    "KPIs",
    "Tiers",
    "Guardrails",
    "Actuals",
    "Settlement",
    "RateCard",
    "_kpixl",
)
STATEMENT = "Statement"  # the client's statement of one period (kpixl/workbook/statement.py)
PACING = "Pacing"  # the open period's projection (kpixl/workbook/pacing_sheet.py)
REVIEW = "Review"  # the renewal facts of the settled periods (kpixl/workbook/review_sheet.py)
#: The sales pricing inputs and the SPEC §6 price: a working sheet that never prints.
PRICING = "Pricing"
SHEETS = (
    QUOTE,
    KPIS,
    TIERS,
    GUARDRAILS,
    ACTUALS,
    SETTLEMENT,
    STATEMENT,
    PACING,
    REVIEW,
    PRICING,
    RATECARD,
    META,
)
#: Template variants: the agency's workbook, and the copy sent to the client (SPEC §7), which
#: holds no internal pricing (no Pricing or RateCard sheet, no quote section).
Variant = Literal["full", "client"]
VARIANTS: tuple[Variant, ...] = ("full", "client")
#: Sheets a client reads and prints (A4 portrait, fit to one page wide).
CLIENT_FACING = (QUOTE, STATEMENT)

# Dropdown lists: the model's word lists, never spelled again.
DIRECTIONS: tuple[str, ...] = get_args(Direction)
CURVE_MODES: tuple[str, ...] = get_args(CurveMode)
OPERATORS: tuple[str, ...] = get_args(Op)
EFFECTS: tuple[str, ...] = get_args(Effect)
PLATFORMS: tuple[str, ...] = get_args(Platform)
PERIOD_KINDS: tuple[str, ...] = get_args(PeriodKind)
SETTLEMENT_MODES: tuple[str, ...] = get_args(SettlementMode)
UNITS: tuple[str, ...] = get_args(Unit)
AGGREGATES: tuple[str, ...] = get_args(Aggregate)
#: Blank adjustment rows kept below the known adjustments, for finance to fill in Excel.
SPARE_ADJUSTMENT_ROWS = 20

PERCENT = "0.00%"
#: A yes / no flag held as 1 / 0: ✓ or —.
CHECK = '"✓";"✓";"—"'
DATE = "yyyy-mm-dd"
#: A flag as words where the application formats booleans (LibreOffice; Excel shows TRUE).
YES_NO = '"yes / 是";"yes / 是";"no / 否"'
#: The number format of an amount in the contract currency (its decimals decide the format).
MONEY = "money"


class Column(NamedTuple):
    """One column of an input table (or row of the Quote header), declared once for the
    builder, the reader, the validator and the in-memory verifier (all through the template
    cells made from it)."""

    key: str
    #: The label, English and Chinese.
    en: str
    zh: str
    value_type: ValueType
    #: The dropdown of allowed values, if any.
    choices: tuple[str, ...] | None
    #: The contract path the column holds, within its entry (``kpis[k].`` / ``guardrails[j].``).
    path: str
    #: Its number format (``MONEY``: the contract currency's).
    number_format: str | None = None


#: Contract header fields on the Quote sheet.
QUOTE_FIELDS: tuple[Column, ...] = (
    Column("id", "Contract ID", "合同编号", "text", None, "id"),
    Column("client", "Client", "客户", "text", None, "client"),
    Column("provider", "Provider", "服务商", "text", None, "provider"),
    Column("currency", "Currency", "币种", "text", None, "currency"),
    Column("decimals", "Currency decimals", "金额小数位", "integer", None, "currency_decimals"),
    Column("platform", "Platform", "平台", "text", PLATFORMS, "platform"),
    Column("markets", "Markets", "站点/市场", "text", None, "markets"),
    Column("category", "Category", "类目", "text", None, "category"),
    Column("start", "Start", "开始日期", "date", None, "start", DATE),
    Column("period", "Period", "结算周期", "text", PERIOD_KINDS, "period"),
    Column("periods", "Periods", "期数", "integer", None, "periods"),
    Column("settlement", "Settlement", "结算方式", "text", SETTLEMENT_MODES, "settlement"),
    Column("clawback", "Clawback", "追回", "bool", ("TRUE", "FALSE"), "clawback", YES_NO),
    Column("revenue_kpi", "Revenue KPI", "销售额指标", "text", None, "revenue_kpi"),
    Column("base", "Base fee per period", "每期基础服务费", "number", None, "fee.base", MONEY),
    Column("pool", "Bonus pool per period", "每期绩效奖金池", "number", None, "fee.pool", MONEY),
    Column("period_cap", "Period cap", "每期封顶", "number", None, "fee.period_cap", MONEY),
    Column("contract_cap", "Contract cap", "合同封顶", "number", None, "fee.contract_cap", MONEY),
    Column(
        "person_days", "Min person-days", "最低投入人天", "number", None, "min_input.person_days"
    ),
    Column("exit_threshold", "Exit threshold (W)", "退出阈值", "number", None, "exit.threshold"),
    Column(
        "exit_consecutive",
        "Exit after consecutive misses",
        "连续未达标期数",
        "integer",
        None,
        "exit.consecutive",
    ),
)
#: The contract path each Quote field holds (``kpixl.model`` field names, dotted).
QUOTE_PATHS: dict[str, str] = {column.key: column.path for column in QUOTE_FIELDS}
QUOTE_FIRST_ROW = 3  # 1-based row of the first header field

#: KPI table columns.
KPI_FIELDS: tuple[Column, ...] = (
    Column("code", "Code", "代码", "text", None, "code"),
    Column("name", "Name", "名称", "text", None, "name"),
    Column("name_zh", "Name (zh)", "中文名称", "text", None, "name_zh"),
    Column("unit", "Unit", "单位", "text", UNITS, "unit"),
    Column("direction", "Direction", "方向", "text", DIRECTIONS, "direction"),
    Column("weight", "Weight", "权重", "number", None, "weight", PERCENT),
    Column("metric", "Metric column", "数据列", "text", None, "metric"),
    Column("ratio_num", "Ratio numerator", "比率分子", "text", None, "ratio[0]"),
    Column("ratio_den", "Ratio denominator", "比率分母", "text", None, "ratio[1]"),
    Column("aggregate", "Aggregate", "累计方式", "text", AGGREGATES, "aggregate"),
    Column("threshold", "Threshold", "门槛", "number", None, "threshold"),
    Column("attainment_cap", "Attainment cap", "达成率封顶", "number", None, "attainment_cap"),
    Column("factor_cap", "Factor cap", "系数封顶", "number", None, "factor_cap"),
    Column("curve_mode", "Curve mode", "曲线类型", "text", CURVE_MODES, "curve.mode"),
    Column("source", "Data source", "数据来源", "text", None, "source"),
    Column("definition", "Definition", "口径定义", "text", None, "definition"),
)
#: The path, within one KPI (``kpis[k].``), each KPI table column holds.
KPI_PATHS: dict[str, str] = {column.key: column.path for column in KPI_FIELDS}
#: Per-period target block columns for each KPI.
TARGET_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("target", "target", "目标"),
    ("ramp", "ramp", "爬坡系数"),
    ("baseline", "baseline", "基线"),
    ("effective", "effective target", "有效目标"),
)
#: Guardrails table columns.
GUARDRAIL_FIELDS: tuple[Column, ...] = (
    Column("metric", "Metric column", "数据列", "text", None, "metric"),
    Column("ratio_num", "Ratio numerator", "比率分子", "text", None, "ratio[0]"),
    Column("ratio_den", "Ratio denominator", "比率分母", "text", None, "ratio[1]"),
    Column("aggregate", "Aggregate", "累计方式", "text", AGGREGATES, "aggregate"),
    Column("op", "Operator", "比较", "text", OPERATORS, "op"),
    Column("bound", "Bound", "界限", "number", None, "bound"),
    Column("effect", "Effect", "效果", "text", EFFECTS, "effect"),
    Column("multiplier", "Multiplier", "乘数", "number", None, "multiplier"),
)
#: The path, within one guardrail (``guardrails[j].``), each Guardrails column holds.
GUARDRAIL_PATHS: dict[str, str] = {column.key: column.path for column in GUARDRAIL_FIELDS}
ADJUSTMENT_HEADER = ADJUSTMENT_COLUMNS
#: The Quote sheet's fee summary and per-period summary columns, in order.
QUOTE_TOTALS = ("base", "bonus", "total")
#: The ``_kpixl`` sheet: one entry a row, its key in column A, its value in column B.
META_KEYS = (
    "schema_id",
    "schema_version",
    "contract_id",
    "generator",
    "fingerprint",
    "formula_mode",
    "lang",
    "adjustment_rows",
    "variant",
)
META_KEY_COL, META_VALUE_COL = 0, 1
#: RateCard sheet tables, side by side (name column, value column, a gap): key, the name
#: header (English, Chinese), the value header (English, Chinese).
RATECARD_TABLES: tuple[tuple[str, str, str, str, str], ...] = (
    ("roles", "Role", "角色", "Monthly cost per head", "每人月成本"),
    ("platforms", "Platform", "平台", "Factor", "系数"),
    ("categories", "Category class", "类目类别", "Factor", "系数"),
    ("integrations", "Data integration", "数据对接", "Monthly fee", "月费"),
    ("add_ons", "Add-on service", "增值服务", "Monthly fee", "月费"),
    ("term_discounts", "Min months", "最短月数", "Discount", "折扣"),
    ("settings", "Setting", "参数", "Value", "数值"),
)
CATEGORY_CLASSES: tuple[str, ...] = get_args(CategoryClass)
INTEGRATIONS: tuple[str, ...] = get_args(Integration)
RATECARD_SETTINGS = ("market_surcharge", "language_fee")
RATECARD_NAME_CELL = "A1"  # the rate card's name, above its tables
RATECARD_FIRST_ROW = 2  # 0-based row of each table's first entry (row 1 holds the headers)
#: Quote pricing formula cells (SPEC §6), in the order ``engine/pricing.py`` computes them.
PRICING_RESULTS: tuple[tuple[str, str, str], ...] = (
    ("team_cost", "Team cost per month", "团队月成本"),
    ("term_discount", "Term discount", "期限折扣"),
    ("monthly_list", "Monthly list price", "月度标价"),
    ("list", "List price per period", "每期标价"),
    ("base", "Base fee per period", "每期基础服务费"),
    ("pool", "Bonus pool per period", "每期绩效奖金池"),
    ("period_cap", "Period cap", "每期封顶"),
)
#: Scenario table columns on Quote (SPEC §6): key, English, Chinese.
SCENARIO_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("level", "Attainment level", "达成水平"),
    ("base", "Base fee", "基础服务费"),
    ("bonus", "KPI bonus", "绩效奖金"),
    ("total", "Total fee", "总服务费"),
    ("gmv", "GMV", "销售额"),
    ("fee_share", "Fee % of GMV", "费用占销售额"),
    ("fixed_fee", "Fixed fee", "固定费用"),
    ("cps_fee", "Pure commission (CPS)", "纯佣金"),
)
#: Per-KPI helper columns of the scenario table: key, English, Chinese.
SCENARIO_KPI_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("attainment", "attainment", "达成率"),
    ("factor", "factor", "系数"),
    ("payout", "payout", "奖金"),
)
#: One scenario row per default level (SPEC §6); the level cells are inputs.
SCENARIO_ROWS = 6
#: Printed columns of the Quote sheet (A to H); helper cells sit right of them.
QUOTE_PRINT_COLS = 8
#: Rows the scenario chart takes below the scenario table.
SCENARIO_CHART_ROWS = 16
#: The lines of each KPI's block of terms on Quote.
KPI_LINES = ("title", "definition", "source", "target", "curve")
#: Payout curve charts: rows high; side by side three (four from four KPIs on).
CURVE_CHART_ROWS = 10
#: The signature block's lines (client left, provider right).
SIGNATURE_LINES = ("party", "name", "title", "signature", "date")


def _positions(fields: tuple[tuple[Any, ...], ...]) -> dict[str, int]:
    """Position of each field by its key (asked for in nearly every formula of a template)."""
    return {f[0]: i for i, f in enumerate(fields)}


_QUOTE_POSITION = _positions(QUOTE_FIELDS)
_KPI_POSITION = _positions(KPI_FIELDS)
_TARGET_POSITION = _positions(TARGET_FIELDS)
_GUARDRAIL_POSITION = _positions(GUARDRAIL_FIELDS)
_SCENARIO_POSITION = _positions(SCENARIO_COLUMNS)
_SCENARIO_KPI_POSITION = _positions(SCENARIO_KPI_COLUMNS)

LABELS: dict[str, tuple[str, str]] = {
    "quote_title": ("KPI-linked service fee quote", "KPI绑定服务费报价"),
    "fee_summary": ("Fee summary", "费用汇总"),
    "total_base": ("Base fee", "基础服务费"),
    "total_bonus": ("KPI bonus", "绩效奖金"),
    "total_fee": ("Total fee", "总服务费"),
    "per_period": ("Per period", "分期明细"),
    "scenarios": ("What the fee is at each attainment level", "各达成水平下的服务费"),
    "fee_structure": ("Fee structure", "费用结构"),
    "kpi_terms": (
        "KPI terms: what is measured, where, and how it pays",
        "KPI条款：考核内容、数据来源与兑付",
    ),
    "terms": ("Guardrails, caps, minimum input and exit", "风控、封顶、最低投入与退出"),
    "curves": (
        "Payout curves: factor (× the KPI's share of the pool) against attainment",
        "兑付曲线：系数（× 该KPI奖金份额）与达成率",
    ),
    "signature": ("Signatures", "签字"),
    "working": ("Working area (not printed): fees as settled", "工作区（不打印）：已结算费用"),
    "curve_points": ("Payout curve points (for the charts)", "兑付曲线数据点（图表用）"),
    "pricing_note": (
        "Fee of period 1 with every KPI at the level, guardrails holding",
        "第1期费用：所有指标处于该达成水平，风控指标均达标",
    ),
    "cps_rate": ("CPS rate (pure commission)", "纯佣金费率"),
    "scenario_kpis": ("Scenario workings per KPI", "各指标情景计算"),
    "targets": ("Targets by period", "分期目标"),
    "adjustments": ("Adjustments", "调整"),
    "period": ("Period", "结算期"),
    "p": ("#", "期次"),
    "n": ("Values entered", "已录入数"),
    "total_row": ("Total", "合计"),
    "quote_pricing": (
        "Quote pricing from the RateCard sheet (SPEC §6)",
        "按价目表报价（规范第6节）",
    ),
}


def label(en: str, zh: str, lang: Lang) -> str:
    """A bilingual label: ``Base fee / 基础服务费`` (or one language)."""
    if lang == "en":
        return en
    if lang == "zh":
        return zh
    return f"{en} / {zh}"


@dataclass(frozen=True)
class CellSpec:
    """One cell of the template: an input, a fixed value or a formula in both modes."""

    sheet: str
    ref: str
    key: str
    kind: Kind
    value_type: ValueType = "number"
    native: str | None = None
    udf: str | None = None
    number_format: str | None = None
    validation: tuple[str, ...] | None = None
    #: What the cell means (every cell of a template schema has one).
    role: Role | None = None
    #: What the cell holds: the contract path of a term (``fee.base``, ``kpis[2].weight``,
    #: ``kpis[0].target[3]``), the settlement figure of a formula (``settlement[2].bonus``),
    #: the entry of a meta cell (``fingerprint``), the what-if or actuals entry of an input.
    field: str | None = None
    #: Columns the cell spans (merged, text wrapped): the proposal's long texts.
    span: int = 1


@dataclass(frozen=True)
class PrintSpec:
    """How a sheet prints: A4 portrait or landscape, fit to one page wide, what repeats."""

    portrait: bool = False
    #: The printed range (0-based first row, first col, last row, last col); None: all.
    area: tuple[int, int, int, int] | None = None
    #: Rows repeated at the top of every page (0-based first and last).
    repeat_rows: tuple[int, int] | None = None
    #: Rows a new page starts at.
    breaks: tuple[int, ...] = ()
    #: Header and footer (contract id, page x of y) on client-facing sheets.
    header_footer: bool = False
    #: At most this many pages tall (printed smaller if needed); None: as many as it takes.
    #: (LibreOffice then ignores the manual breaks, so the Quote does not use it.)
    pages_tall: int | None = None


@dataclass(frozen=True)
class SheetSpec:
    """A sheet: name, visibility, frozen panes, column widths, protection and printing."""

    name: str
    state: Literal["visible", "veryHidden"] = "visible"
    freeze: tuple[int, int] | None = None
    widths: tuple[tuple[int, float], ...] = ()
    protected: bool = True
    header_row: int | None = None
    headers: tuple[str, ...] = ()
    printing: PrintSpec = field(default_factory=PrintSpec)
    #: Column ranges grouped (outline level 1, collapsible), 0-based first and last.
    groups: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class TemplateSchema:
    """The whole template for one contract: sheets, defined names and cells."""

    schema_id: str
    version: str
    contract_id: str
    sheets: tuple[SheetSpec, ...]
    names: dict[str, str]
    cells: tuple[CellSpec, ...] = field(default=())
    #: ``full``, or ``client``: the copy for the client, without internal pricing (SPEC §7).
    variant: Variant = "full"

    def formula_cells(self) -> tuple[CellSpec, ...]:
        """Every formula cell, in sheet order."""
        return tuple(cell for cell in self.cells if cell.kind == "formula")

    def to_json(self) -> str:
        """The schema as a JSON document (``kpixl schema template``)."""
        document: dict[str, Any] = {
            "schema_id": self.schema_id,
            "version": self.version,
            "contract_id": self.contract_id,
            "variant": self.variant,
            "sheets": [asdict(sheet) for sheet in self.sheets],
            "names": self.names,
            "cells": [asdict(cell) for cell in self.cells],
        }
        return json.dumps(document, ensure_ascii=False, indent=2)


@functools.cache
def sample_rate_card() -> RateCard:
    """The shipped SAMPLE rate card the RateCard sheet starts with (loaded once)."""
    return load_rate_card()


def sheet_misfits(card: RateCard, source: str) -> list[Issue]:
    """Why a rate card cannot fill the RateCard sheet, which has the sample card's rows.

    Roles, platforms, category classes, integrations and settings are the same on every card;
    the add-ons must be the sample's (its names are fixed cells) and the term tiers as many
    (their min months are inputs, so they may differ).

    Args:
        card: the rate card to write into the sheet.
        source: how locations name the card (its file).

    Returns:
        KX127 issues; none when the card fits.
    """
    sample = sample_rate_card()
    issues = []
    if set(card.add_ons) != set(sample.add_ons):
        message = (
            f"the workbook's RateCard sheet has rows for the add-ons {', '.join(sample.add_ons)}; "
            f"this card prices {', '.join(card.add_ons) or 'none'}"
        )
        issues.append(Issue(f"{source}:add_ons", CODE_CARD_MISFIT, message))
    if len(card.term_discounts) != len(sample.term_discounts):
        message = (
            f"the workbook's RateCard sheet has {len(sample.term_discounts)} term tiers; "
            f"this card has {len(card.term_discounts)}"
        )
        issues.append(Issue(f"{source}:term_discounts", CODE_CARD_MISFIT, message))
    return issues


def load_fitting_card(path: Path) -> RateCard:
    """The rate card in a file, checked to fit the workbook's RateCard sheet.

    Args:
        path: the rate card YAML.

    Returns:
        The card.

    Raises:
        RateCardError: unreadable, breaks a rule (KX121, KX122) or does not fit (KX127).
    """
    card = load_rate_card(path)
    misfits = sheet_misfits(card, str(path))
    if misfits:
        raise RateCardError.from_issues(misfits)
    return card


def ratecard_names(table: str) -> tuple[str, ...]:
    """The entry names of a RateCard sheet table (term tiers: their min months as text)."""
    card = sample_rate_card()
    names: dict[str, tuple[str, ...]] = {
        "roles": ROLES,
        "platforms": tuple(card.platforms),
        "categories": CATEGORY_CLASSES,
        "integrations": INTEGRATIONS,
        "add_ons": tuple(card.add_ons),
        "term_discounts": tuple(str(t.min_months) for t in card.term_discounts),
        "settings": RATECARD_SETTINGS,
    }
    return names[table]


def pricing_inputs() -> tuple[str, ...]:
    """The Quote pricing input keys: headcount per role, the sales inputs, one flag per add-on."""
    return (
        *(f"team.{role}" for role in ROLES),
        "platform",
        "markets",
        "category_class",
        "integration",
        *(f"add_on.{name}" for name in ratecard_names("add_ons")),
        "languages",
        "term_months",
        "base_share",
        "risk_premium",
        "cap_ratio",
    )


def priced(contract: Contract) -> bool:
    """Whether the workbook prices the contract's quote section from the sample rate card.

    A quote naming an add-on the sample card does not price cannot be laid out as flags.
    """
    quote = contract.quote
    if quote is None:
        return False
    try:
        card = sample_rate_card()
    except RateCardError:  # a broken install: no pricing block rather than no workbook
        return False
    return set(quote.add_ons) <= set(card.add_ons)


# Addresses are asked for tens of thousands of times per workbook: remember them.
@functools.lru_cache(maxsize=1 << 16)
def cell(row: int, col: int, absolute: bool = False) -> str:
    """A1 address of a 0-based (row, col), as XlsxWriter's ``xl_rowcol_to_cell`` writes it.

    Not imported from XlsxWriter: its package import (~20 ms) would fall on every command that
    only reads a workbook.
    """
    if row < 0 or col < 0:
        import warnings

        which, number = ("Row", row) if row < 0 else ("Col", col)
        warnings.warn(f"{which} number '{number}' must be >= 0", stacklevel=2)
        return ""
    mark = "$" if absolute else ""
    return f"{mark}{column_letters(col + 1)}{mark}{row + 1}"


@functools.lru_cache(maxsize=1 << 12)
def column(col: int) -> str:
    """Column letters of a 0-based column."""
    return column_letters(col + 1)


class Layout:
    """Addresses of everything in the workbook of one contract (0-based rows and columns)."""

    def __init__(self, contract: Contract, adjustment_rows: int = 0) -> None:
        self.contract = contract
        self.n = contract.periods
        self.k = len(contract.kpis)
        self.g = len(contract.guardrails)
        self.cumulative = contract.settlement == "cumulative"
        self.metrics = tuple(contract.required_columns)
        self.tier_counts = tuple(
            0 if kpi.curve is None else len(kpi.curve.tiers) for kpi in contract.kpis
        )
        self.adjustment_rows = adjustment_rows + SPARE_ADJUSTMENT_ROWS
        self.settlement_columns = self._settlement_columns()
        self._settlement_position = {key: i for i, key in enumerate(self.settlement_columns)}
        self._metric_position = {metric: i for i, metric in enumerate(self.metrics)}
        #: Position of each KPI by its code.
        self.kpi_position = {kpi.code: k for k, kpi in enumerate(contract.kpis)}
        self.priced = priced(contract)

    # Quote: the proposal (SPEC §7), printed on A4 portrait, columns A to H ---------------
    #: Column of the contract header values on Quote (labels are in column A).
    quote_col = 1

    @staticmethod
    def quote_row(key: str) -> int:
        """Row of a contract header field on the Quote sheet."""
        return QUOTE_FIRST_ROW - 1 + _QUOTE_POSITION[key]

    def quote(self, key: str) -> str:
        """Absolute reference to a Quote input, e.g. ``Quote!$B$4``."""
        return f"{QUOTE}!{cell(self.quote_row(key), self.quote_col, True)}"

    #: The fee structure in one line: heading, then the line (below the header fields).
    fee_heading_row = QUOTE_FIRST_ROW + len(QUOTE_FIELDS)
    fee_line_row = fee_heading_row + 1

    # Scenarios (SPEC §6) on page 1 of the proposal: a fixed place whatever the contract.
    scenario_heading_row = fee_line_row + 2
    scenario_cps_row = scenario_heading_row + 1
    scenario_note_row = scenario_cps_row + 1
    scenario_header_row = scenario_note_row + 1
    #: First row of the scenario chart, below the table.
    scenario_chart_row = scenario_header_row + SCENARIO_ROWS + 1
    #: First per-KPI helper column: right of the printed columns (never printed).
    scenario_kpi_first_col = QUOTE_PRINT_COLS + 1

    #: Quote-relative address of the CPS rate input, e.g. ``B29``.
    cps_rate_cell = cell(scenario_cps_row, 1)

    @property
    def cps_rate(self) -> str:
        """Absolute reference to the CPS rate input, e.g. ``Quote!$B$29``."""
        return f"{QUOTE}!{cell(self.scenario_cps_row, 1, True)}"

    def scenario_row(self, i: int) -> int:
        """Quote row of scenario i (0-based)."""
        return self.scenario_header_row + 1 + i

    @staticmethod
    def scenario_col(key: str) -> int:
        """Quote column of a scenario table column."""
        return _SCENARIO_POSITION[key]

    def scenario_kpi_col(self, k: int, key: str) -> int:
        """Quote column of KPI k's scenario helper column."""
        width = len(SCENARIO_KPI_COLUMNS)
        return self.scenario_kpi_first_col + k * width + _SCENARIO_KPI_POSITION[key]

    def scenario(self, key: str, i: int) -> str:
        """Quote-relative address of scenario i's cell in a table column."""
        return cell(self.scenario_row(i), self.scenario_col(key))

    def scenario_kpi(self, k: int, key: str, i: int) -> str:
        """Quote-relative address of scenario i's helper cell of KPI k."""
        return cell(self.scenario_row(i), self.scenario_kpi_col(k, key))

    # Page 2 of the proposal: KPI terms, the other terms, payout curves, signatures ----------
    #: Heading of the KPI terms, the first row of page 2 (a page break sits above it).
    kpi_terms_row = scenario_chart_row + SCENARIO_CHART_ROWS + 1

    def kpi_line_row(self, k: int, line: str) -> int:
        """Quote row of one line (title, definition, ...) of KPI k's block of terms."""
        return self.kpi_terms_row + 1 + k * (len(KPI_LINES) + 1) + KPI_LINES.index(line)

    @property
    def terms_row(self) -> int:
        """Heading of the guardrails, caps, minimum input and exit clause."""
        return self.kpi_terms_row + 1 + self.k * (len(KPI_LINES) + 1)

    @property
    def term_keys(self) -> tuple[str, ...]:
        """One line per guardrail (or one saying there is none), caps, min input, exit."""
        guardrails = tuple(f"guardrail[{j}]" for j in range(self.g)) or ("guardrail_none",)
        return (*guardrails, "caps", "min_input", "exit")

    def term_row(self, key: str) -> int:
        """Quote row of a term line."""
        return self.terms_row + 1 + self.term_keys.index(key)

    @property
    def curves_row(self) -> int:
        """Heading of the payout curve charts."""
        return self.terms_row + 1 + len(self.term_keys) + 1

    def curve_chart_place(self, k: int) -> tuple[int, int]:
        """(row, position in its row) of KPI k's payout curve chart."""
        row = self.curves_row + 1 + (k // self.curves_per_row) * CURVE_CHART_ROWS
        return row, k % self.curves_per_row

    @property
    def curves_per_row(self) -> int:
        """Payout curve charts side by side: three, or four for four KPIs and more."""
        return 3 if self.k <= 3 else 4

    @property
    def signature_row(self) -> int:
        """Heading of the signature block."""
        charts = -(-self.k // self.curves_per_row) * CURVE_CHART_ROWS
        return self.curves_row + 1 + charts + 1

    def signature_line_row(self, line: str) -> int:
        """Quote row of a line of the signature block."""
        return self.signature_row + 1 + SIGNATURE_LINES.index(line)

    @property
    def print_last_row(self) -> int:
        """Last printed row of Quote: the signature block's last line."""
        return self.signature_line_row(SIGNATURE_LINES[-1])

    #: Curve points for the charts: right of the scenario helper columns (never printed).
    def curve_col(self, k: int, key: Literal["x", "f"]) -> int:
        """Quote column of KPI k's curve points: attainment (x) or factor (f)."""
        first = self.scenario_kpi_first_col + self.k * len(SCENARIO_KPI_COLUMNS) + 1
        return first + 2 * k + (0 if key == "x" else 1)

    #: Header row of the curve points (the KPI code), then one row per point.
    curve_header_row = scenario_header_row

    def curve_point(self, k: int, key: Literal["x", "f"], i: int) -> str:
        """Quote-relative address of point i of KPI k's curve."""
        return cell(self.curve_header_row + 1 + i, self.curve_col(k, key))

    # Working area below the printed proposal: settled fee totals and per period ----------
    @property
    def summary_row(self) -> int:
        """First row of the fee summary on Quote (below the printed area)."""
        return self.print_last_row + 3

    @property
    def per_period_row(self) -> int:
        """Header row of the per-period summary on Quote."""
        return self.summary_row + 5

    def quote_total(self, key: str) -> str:
        """Quote-relative address of a fee summary total (``base``, ``bonus``, ``total``)."""
        return cell(self.summary_row + 1 + QUOTE_TOTALS.index(key), 1)

    def quote_period(self, key: str, p: int) -> str:
        """Quote-relative address of period p's amount in the per-period summary."""
        return cell(self.per_period_row + p, 1 + QUOTE_TOTALS.index(key))

    # Pricing (SPEC §6): the sales inputs then the formulas, on their own working sheet -----
    #: Column of the pricing labels on Pricing (values one column right).
    pricing_col = 0
    #: Row of the first pricing input (the heading is the row above).
    pricing_first_row = 1
    #: Pricing-relative address of the pricing heading: its text marks a priced workbook.
    pricing_heading_cell = cell(pricing_first_row - 1, pricing_col)

    @classmethod
    def pricing_row(cls, key: str) -> int:
        """Pricing row of a pricing input or result (the same for every contract)."""
        keys = [*pricing_inputs(), *(r[0] for r in PRICING_RESULTS)]
        return cls.pricing_first_row + keys.index(key)

    @classmethod
    def pricing_cell(cls, key: str) -> str:
        """Pricing-relative address of a pricing value, e.g. ``B16``."""
        return cell(cls.pricing_row(key), cls.pricing_col + 1)

    def pricing(self, key: str) -> str:
        """Absolute reference to a pricing value, e.g. ``Pricing!$B$16``."""
        return f"{PRICING}!{cell(self.pricing_row(key), self.pricing_col + 1, True)}"

    def pricing_range(self, first: str, last: str) -> str:
        """Absolute range of pricing values from one key to another."""
        col = self.pricing_col + 1
        a, b = cell(self.pricing_row(first), col, True), cell(self.pricing_row(last), col, True)
        return f"{PRICING}!{a}:{b}"

    # RateCard ---------------------------------------------------------------------------
    @staticmethod
    def ratecard_col(table: str) -> int:
        """Name column of a RateCard table (its values are one column right)."""
        return 3 * [t[0] for t in RATECARD_TABLES].index(table)

    def ratecard_cell(self, table: str, i: int, which: Literal["name", "value"]) -> str:
        """RateCard-relative address of entry i's name or value."""
        col = self.ratecard_col(table) + (1 if which == "value" else 0)
        return cell(RATECARD_FIRST_ROW + i, col)

    def ratecard_value(self, table: str, name: str) -> str:
        """Absolute reference to the value of a named entry, e.g. ``RateCard!$T$3``."""
        i = ratecard_names(table).index(name)
        return f"{RATECARD}!{cell(RATECARD_FIRST_ROW + i, self.ratecard_col(table) + 1, True)}"

    def ratecard_range(self, table: str, which: Literal["name", "value"]) -> str:
        """Absolute range of a RateCard table's names or values."""
        col = self.ratecard_col(table) + (1 if which == "value" else 0)
        last = RATECARD_FIRST_ROW + len(ratecard_names(table)) - 1
        return f"{RATECARD}!{cell(RATECARD_FIRST_ROW, col, True)}:{cell(last, col, True)}"

    # KPIs and Guardrails: a header row, then one row per KPI or guardrail ----------------
    @staticmethod
    def table_row(i: int) -> int:
        """Row of entry i (0-based) of the KPI or guardrail table; row 0 is the header."""
        return 1 + i

    @staticmethod
    def kpi_col(key: str) -> int:
        """Column of a KPI table field."""
        return _KPI_POSITION[key]

    def kpi(self, k: int, key: str) -> str:
        """Absolute reference to KPI k's field."""
        return f"{KPIS}!{cell(self.table_row(k), self.kpi_col(key), True)}"

    @property
    def weights_range(self) -> str:
        """The weight column of the KPI table."""
        col = self.kpi_col("weight")
        first, last = (
            cell(self.table_row(0), col, True),
            cell(self.table_row(self.k - 1), col, True),
        )
        return f"{KPIS}!{first}:{last}"

    @staticmethod
    def target_block_row(kpi_count: int) -> int:
        """Header row of the target block under a KPI table of ``kpi_count`` KPIs."""
        return kpi_count + 3

    @property
    def target_header_row(self) -> int:
        """Header row of the per-period target block on KPIs."""
        return self.target_block_row(self.k)

    def target_row(self, p: int) -> int:
        """Row of period p (1-based) in the target block."""
        return self.target_header_row + p

    @staticmethod
    def target_col(k: int, key: str) -> int:
        """Column of KPI k's target-block field."""
        return 1 + k * len(TARGET_FIELDS) + _TARGET_POSITION[key]

    def target(self, k: int, key: str, p: int, absolute: bool = True) -> str:
        """Reference to KPI k's target-block cell of period p."""
        return f"{KPIS}!{cell(self.target_row(p), self.target_col(k, key), absolute)}"

    def target_span(self, k: int, key: str, p: int) -> str:
        """KPI k's target-block column from period 1 to p."""
        col = column(self.target_col(k, key))
        return f"{KPIS}!${col}${self.target_row(1) + 1}:${col}${self.target_row(p) + 1}"

    # Tiers ------------------------------------------------------------------------------
    tier_first_row = 2

    #: Row of each KPI's code above its two tier columns, and of their headers.
    tier_code_row, tier_header_row = 0, 1

    @staticmethod
    def tier_col(k: int, key: Literal["from", "rate"]) -> int:
        """Column of KPI k's tier ``from`` or ``rate`` (two columns per KPI)."""
        return 2 * k + (0 if key == "from" else 1)

    def tier(self, k: int, i: int, key: Literal["from", "rate"]) -> str:
        """Absolute reference to tier i of KPI k."""
        return f"{TIERS}!{cell(self.tier_first_row + i, self.tier_col(k, key), True)}"

    def tier_range(self, k: int) -> str:
        """KPI k's two-column tier range (from, rate)."""
        first = cell(self.tier_first_row, self.tier_col(k, "from"), True)
        last = cell(self.tier_first_row + self.tier_counts[k] - 1, self.tier_col(k, "rate"), True)
        return f"{TIERS}!{first}:{last}"

    # Guardrails -------------------------------------------------------------------------
    @staticmethod
    def guardrail_col(key: str) -> int:
        """Column of a guardrail table field."""
        return _GUARDRAIL_POSITION[key]

    def guardrail(self, j: int, key: str) -> str:
        """Absolute reference to guardrail j's field."""
        return f"{GUARDRAILS}!{cell(self.table_row(j), self.guardrail_col(key), True)}"

    # Actuals ----------------------------------------------------------------------------
    #: Row of the metric names on Actuals; period p's values are on row p.
    actuals_header_row = 0

    def actual_col(self, metric: str) -> int:
        """Column of a metric on Actuals (column A is ``period``)."""
        return 1 + self._metric_position[metric]

    def actual(self, metric: str, p: int) -> str:
        """Reference to period p's value of a metric on Actuals."""
        return f"{ACTUALS}!{cell(p, self.actual_col(metric))}"

    def actual_header(self, metric: str) -> str:
        """Reference to a metric's header cell on Actuals."""
        return f"{ACTUALS}!{cell(0, self.actual_col(metric), True)}"

    def actual_row_range(self, p: int) -> str:
        """Period p's metric cells on Actuals."""
        return f"{ACTUALS}!{cell(p, 1)}:{cell(p, len(self.metrics))}"

    @property
    def adjustment_header_row(self) -> int:
        """Header row of the adjustments table on Actuals."""
        return self.n + 3

    def adjustment_range(self, key: str) -> str:
        """One column of the adjustments table (all its rows)."""
        col = ADJUSTMENT_HEADER.index(key)
        first = self.adjustment_header_row + 1
        last = first + self.adjustment_rows - 1
        return f"{ACTUALS}!{cell(first, col, True)}:{cell(last, col, True)}"

    # Settlement -------------------------------------------------------------------------
    def _settlement_columns(self) -> tuple[str, ...]:
        codes = [kpi.code for kpi in self.contract.kpis]
        keys = ["period", "p", "n"]
        keys += [f"x:{m}" for m in self.metrics]
        for measure in ("actual", "target"):
            keys += [f"{measure}:{c}" for c in codes]
        keys += [f"baseline:{kpi.code}" for kpi in self.contract.kpis if kpi.baseline is not None]
        for measure in ("attainment", "factor", "payout"):
            keys += [f"{measure}:{c}" for c in codes]
        if self.cumulative:
            keys += [f"own:{c}" for c in codes]
        keys += ["w"]
        keys += [f"g:{j}" for j in range(self.g)]
        keys += ["m", "uncapped"]
        if self.cumulative:
            keys += ["to_date"]
        keys += ["paid_before", "bonus", "base", "total", "cum_bonus", "miss", "streak", "exit"]
        return tuple(keys)

    def scol(self, key: str) -> int:
        """Column of a Settlement column key."""
        return self._settlement_position[key]

    def srow(self, p: int) -> int:
        """Settlement row of period p (1-based): the header is row 0."""
        return p

    def s(self, key: str, p: int) -> str:
        """Same-sheet relative reference to a Settlement cell of period p."""
        return cell(self.srow(p), self.scol(key))

    def s_span(self, key: str, p: int) -> str:
        """A Settlement column from period 1 to p (first row anchored)."""
        col = column(self.scol(key))
        return f"${col}$2:${col}{self.srow(p) + 1}"

    @property
    def total_row(self) -> int:
        """The totals row of the Settlement sheet."""
        return self.n + 1

    def total(self, key: Literal["base", "bonus", "total"], absolute: bool = False) -> str:
        """Reference to a contract total on Settlement."""
        return cell(self.total_row, self.scol(key), absolute)

    @property
    def settlement_range(self) -> str:
        """The settlement table, header to last period."""
        last = cell(self.n, len(self.settlement_columns) - 1, True)
        return f"{SETTLEMENT}!$A$1:{last}"


def template_names(layout: Layout) -> dict[str, str]:
    """The workbook's defined names and what they point at."""
    return {
        "KPIXL_TOTAL_BASE": f"{SETTLEMENT}!{layout.total('base', True)}",
        "KPIXL_TOTAL_BONUS": f"{SETTLEMENT}!{layout.total('bonus', True)}",
        "KPIXL_TOTAL_FEE": f"{SETTLEMENT}!{layout.total('total', True)}",
        "KPIXL_SETTLEMENT": layout.settlement_range,
    }
