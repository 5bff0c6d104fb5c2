"""The Pacing sheet (SPEC §9): the as-of date and to-date figures, typed or from pasted days.

Cells, their native and udf formulas, and their cached values (from the engine's
``pace_to_date``) are all here; the template, the builder and the validator call in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from kpixl.actuals import PeriodData
from kpixl.daily import period_containing, period_dates
from kpixl.engine.pacing import (
    Pacing,
    column_kinds,
    pace_to_date,
    project,
)
from kpixl.engine.rounding import excel_round
from kpixl.errors import Issue, KpixlError
from kpixl.model import Kpi
from kpixl.workbook import cellformulas as cf
from kpixl.workbook.layout import (
    CHECK,
    PACING,
    SETTLEMENT,
    CellSpec,
    Kind,
    Lang,
    Layout,
    Role,
    ValueType,
    cell,
    column,
    label,
)
from kpixl.workbook.pacing_daily import (
    CHECKS,
    DATE_FORMAT,
    SOURCES,
    DailyBlock,
    DailyFigures,
    PastedRow,
    Refs,
    bilingual,
    block_values,
    check_formula,
    check_rows,
    daily_cells,
    daily_fixed_values,
    daily_input_values,
    daily_issues,
    daily_labels,
    last_pasted_day,
    longest_period,
    read_rows,
    serial,
    source_formula,
    to_date_from_rows,
    used_formulas,
)
from kpixl.workbook.settled import settled

CellValue = float | bool | str

#: Rows (0-based) of the header block: label in column A, value in column B.
HEADER_ROWS: tuple[tuple[str, str, str], ...] = (
    (
        "as_of",
        "As of date (type it; blank: the last pasted day)",
        "截至日期（请输入；留空：最后粘贴日）",
    ),
    (
        "days_with_data",
        "Days with data (optional, typed figures)",
        "有数据天数（可选，手工输入时）",
    ),
    ("as_of_used", "As of date used", "采用的截至日期"),
    ("p", "Period #", "期次"),
    ("period", "Period", "结算期"),
    ("first", "First day of the period", "本期首日"),
    ("days", "Days in period N", "本期天数 N"),
    ("elapsed", "Days elapsed e", "已过天数 e"),
    ("remaining", "Days remaining R", "剩余天数 R"),
    ("source", "To-date figures from", "至今数据来源"),
    ("check", "Daily rows check", "每日数据检查"),
    ("ready", "Ready (every to-date figure known)", "已就绪（至今数据齐全）"),
)
HEADER_FIRST_ROW = 2
COLUMN_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("column", "Column", "指标列"),
    ("kind", "Kind", "汇总方式"),
    ("to_date", "To date (type it)", "至今（请输入）"),
    ("used", "To date used", "至今（采用值）"),
    ("projected", "Projected period", "本期预测"),
)
KPI_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("code", "KPI", "KPI"),
    ("to_date", "To date", "至今"),
    ("projected", "Projected", "预测"),
    ("target", "Target", "目标"),
    ("baseline", "Baseline", "基线"),
    ("attainment", "Projected attainment", "预测达成率"),
    ("factor", "Factor", "系数"),
    ("payout", "Projected payout", "预测奖金"),
    ("next", "Next step (attainment)", "下一档（达成率）"),
    ("needed", "Actual needed", "所需实际值"),
    ("rest", "Rest of period needs", "剩余期间需达到"),
    ("per_day", "Per remaining day", "每日需增加"),
)
SUMMARY_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("m", "Guardrail multiplier", "风控系数"),
    ("uncapped", "Projected bonus before caps", "封顶前预测奖金"),
    ("paid_before", "Bonus paid in earlier periods", "此前已付奖金"),
    ("bonus", "Projected bonus", "预测绩效奖金"),
    ("base", "Base fee", "基础服务费"),
    ("total", "Projected total fee", "预测总服务费"),
)
TITLE = ("Pacing: where the open period is heading", "进度预测：本期走向")
#: Column A holds the (wrapped) labels, the others numbers under wrapped headers: the printed
#: page (A4 landscape, one page wide) stays readable.
PACING_WIDTHS: tuple[tuple[int, float], ...] = ((0, 30), *((c, 13.0) for c in range(1, 12)))
#: Figures that are neither money nor a rate: thousands separated, 2 to 4 decimals.
FIGURE_FORMAT = "#,##0.00##"
NONE = "9E+307"  # larger than any breakpoint: "no breakpoint above"


@dataclass(frozen=True)
class PacingInputs:
    """What the user typed on the Pacing sheet."""

    as_of: dt.date | None
    days_with_data: int | None
    to_date: dict[str, float | None]
    #: The rows pasted into the Daily block (empty: the typed figures are used).
    daily: tuple[PastedRow, ...] = ()


def blank_inputs(layout: Layout) -> PacingInputs:
    """A new workbook's Pacing inputs: nothing typed yet."""
    return PacingInputs(None, None, dict.fromkeys(column_kinds(layout.contract)))


class PacingLayout:
    """Addresses on the Pacing sheet of one contract."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.kinds = column_kinds(layout.contract)
        self.columns = tuple(self.kinds)
        self.column_header_row = HEADER_FIRST_ROW + len(HEADER_ROWS) + 1
        self.kpi_header_row = self.column_header_row + len(self.columns) + 2
        self.summary_first_row = self.kpi_header_row + layout.k + 2
        self.last_row = self.summary_first_row + len(SUMMARY_FIELDS) - 1
        counts = [len(_candidates(layout, k)) for k in range(layout.k)]
        self.last_col = len(KPI_FIELDS) + max(counts) - 1
        refs = Refs(*(self.header(key) for key in ("p", "first", "days", "as_of_used")))
        self.daily = DailyBlock(
            self.last_row + 2, layout.metrics, longest_period(layout.contract), refs
        )

    def header(self, key: str, absolute: bool = True) -> str:
        row = HEADER_FIRST_ROW + [h[0] for h in HEADER_ROWS].index(key)
        return cell(row, 1, absolute)

    def column_cell(self, name: str, field: str) -> str:
        row = self.column_header_row + 1 + self.columns.index(name)
        return cell(row, [f[0] for f in COLUMN_FIELDS].index(field), True)

    def kpi_cell(self, k: int, field: str) -> str:
        return cell(self.kpi_header_row + 1 + k, [f[0] for f in KPI_FIELDS].index(field), True)

    def candidate(self, k: int, i: int) -> str:
        return cell(self.kpi_header_row + 1 + k, len(KPI_FIELDS) + i, True)

    def candidates_range(self, k: int) -> str:
        count = len(_candidates(self.layout, k))
        return f"{self.candidate(k, 0)}:{self.candidate(k, count - 1)}"

    def summary(self, key: str) -> str:
        row = self.summary_first_row + [f[0] for f in SUMMARY_FIELDS].index(key)
        return cell(row, 1, True)


def _candidates(layout: Layout, k: int) -> list[str]:
    """The breakpoint candidates of KPI k as references: threshold, tier ``from``s, 1."""
    refs = [layout.kpi(k, "threshold")]
    refs += [layout.tier(k, i, "from") for i in range(layout.tier_counts[k])]
    return [*refs, "1"]


def pacing_cells(layout: Layout, lang: Lang) -> list[CellSpec]:
    """Every cell of the Pacing sheet: labels, inputs and formulas in both modes."""
    at = PacingLayout(layout)
    cells = [CellSpec(PACING, "A1", "label.pacing.title", "fixed", "text")]
    cells += _header_cells(at)
    cells += _column_cells(at)
    cells += _kpi_cells(at)
    cells += daily_cells(at.daily)
    money = cf_money(layout)
    for i, (key, _en, _zh) in enumerate(SUMMARY_FIELDS):
        row = at.summary_first_row + i
        cells.append(CellSpec(PACING, cell(row, 0), f"label.pacing.summary.{key}", "fixed", "text"))
        native, udf = _summary_formulas(at, key)
        fmt = None if key == "m" else money
        cells.append(_formula(f"pacing.{key}", _rel(at.summary(key)), native, udf, fmt))
    return [_with_role(spec) for spec in cells]


def _with_role(spec: CellSpec) -> CellSpec:
    """What the cell means: a label, what the user types (what-if), a marker or a formula."""
    if spec.key.startswith("label."):
        return replace(spec, role="label")
    role: Role = {"formula": "formula", "input": "what_if"}.get(spec.kind, "marker")  # type: ignore[assignment]
    return replace(spec, role=role, field=spec.key)


def _header_cells(at: PacingLayout) -> list[CellSpec]:
    cells = []
    for i, (key, _en, _zh) in enumerate(HEADER_ROWS):
        row = HEADER_FIRST_ROW + i
        cells.append(CellSpec(PACING, cell(row, 0), f"label.pacing.{key}", "fixed", "text"))
        ref = at.header(key, absolute=False)
        if key == "as_of":
            cells.append(
                CellSpec(PACING, ref, "pacing.as_of", "input", "date", None, None, DATE_FORMAT)
            )
        elif key == "days_with_data":
            cells.append(CellSpec(PACING, ref, "pacing.days_with_data", "input", "integer"))
        elif key in ("source", "check"):
            made = source_formula if key == "source" else check_formula
            text = made(at.daily)
            cells.append(_formula(f"pacing.{key}", ref, text, text, None, "text"))
        else:
            kind: ValueType = (
                "integer" if key == "ready" else "text" if key == "period" else "number"
            )
            native, udf = _header_formulas(at, key)
            # Ready is 1 / 0 shown ✓ / —, as the Settlement's exit and miss flags (a boolean
            # would print TRUE / FALSE, and no number format can turn those into words).
            fmt = DATE_FORMAT if key in ("as_of_used", "first") else None
            fmt = CHECK if key == "ready" else fmt
            cells.append(_formula(f"pacing.{key}", ref, native, udf, fmt, kind))
    return cells


def _column_cells(at: PacingLayout) -> list[CellSpec]:
    cells = []
    for c, (key, _en, _zh) in enumerate(COLUMN_FIELDS):
        ref = cell(at.column_header_row, c)
        cells.append(CellSpec(PACING, ref, f"label.pacing.columns.{key}", "fixed", "text"))
    for name in at.columns:
        fields: tuple[tuple[str, Kind, ValueType], ...] = (
            ("column", "fixed", "text"),
            ("kind", "fixed", "text"),
            ("to_date", "input", "number"),
        )
        for field, kind, value_type in fields:
            ref = _rel(at.column_cell(name, field))
            fmt = FIGURE_FORMAT if field == "to_date" else None
            key = f"pacing.{field}.{name}"
            cells.append(CellSpec(PACING, ref, key, kind, value_type, number_format=fmt))
        typed = at.column_cell(name, "to_date")
        native, udf = used_formulas(at.daily, name, at.kinds[name], typed)
        ref = _rel(at.column_cell(name, "used"))
        cells.append(_formula(f"pacing.used.{name}", ref, native, udf, FIGURE_FORMAT))
        native, udf = _projected(at, name)
        ref = _rel(at.column_cell(name, "projected"))
        cells.append(_formula(f"pacing.projected.{name}", ref, native, udf, FIGURE_FORMAT))
    return cells


def _kpi_cells(at: PacingLayout) -> list[CellSpec]:
    layout = at.layout
    cells = []
    for c, (key, _en, _zh) in enumerate(KPI_FIELDS):
        ref = cell(at.kpi_header_row, c)
        cells.append(CellSpec(PACING, ref, f"label.pacing.kpis.{key}", "fixed", "text"))
    for k, kpi in enumerate(layout.contract.kpis):
        ref = _rel(at.kpi_cell(k, "code"))
        cells.append(CellSpec(PACING, ref, f"pacing.kpi[{k}].code", "fixed", "text"))
        for field, _en, _zh in KPI_FIELDS[1:]:
            if (field == "baseline" and kpi.baseline is None) or (
                field == "per_day" and _shape(at, k) != "sum"
            ):
                continue
            native, udf = _kpi_formulas(at, k, field)
            ref = _rel(at.kpi_cell(k, field))
            fmt = _kpi_format(layout, field)
            cells.append(_formula(f"pacing.kpi[{k}].{field}", ref, native, udf, fmt))
        for i, candidate in enumerate(_candidates(layout, k)):
            formula = _candidate_formula(at, k, candidate)
            ref = _rel(at.candidate(k, i))
            cells.append(_formula(f"pacing.kpi[{k}].breakpoint[{i}]", ref, formula, formula))
    return cells


def cf_money(layout: Layout) -> str:
    decimals = layout.contract.decimals
    return "#,##0" if decimals == 0 else "#,##0." + "0" * decimals


def _settlement_column(layout: Layout, key: str) -> str:
    """A Settlement column over every period, from another sheet."""
    col = column(layout.scol(key))
    return f"{SETTLEMENT}!${col}$2:${col}${layout.srow(layout.contract.periods) + 1}"


def _rel(ref: str) -> str:
    return ref.replace("$", "")


def _formula(
    key: str,
    ref: str,
    native: str,
    udf: str,
    number_format: str | None = None,
    value_type: ValueType = "number",
) -> CellSpec:
    return CellSpec(
        PACING, ref, key, "formula", value_type, native=native, udf=udf, number_format=number_format
    )


def _kpi_format(layout: Layout, field: str) -> str | None:
    if field == "payout":
        return cf_money(layout)
    if field in ("attainment", "next"):
        return "0.00%"
    return FIGURE_FORMAT


def _ready(at: PacingLayout, expr: str) -> str:
    return f'IF({at.header("ready")},{expr},"")'


def _header_formulas(at: PacingLayout, key: str) -> tuple[str, str]:
    contract = at.layout.contract
    months = 1 if contract.period == "month" else 3
    start = contract.start
    first0 = start.year * 12 + (start.month - 1) // months * months
    if key == "as_of_used":
        typed, dates = at.header("as_of"), at.daily.dates
        expr = f'IF(ISNUMBER({typed}),{typed},IF(COUNT({dates})>0,MAX({dates}),""))'
        return expr, expr
    d = at.header("as_of_used")
    if key == "p":
        raw = f"INT((YEAR({d})*12+MONTH({d})-1-{first0})/{months})+1"
        expr = f'IF(ISNUMBER({d}),IF(AND({raw}>=1,{raw}<={contract.periods}),{raw},""),"")'
        return expr, expr
    p = at.header("p")
    start_month = f"INT((MONTH({d})-1)/{months})*{months}+1"
    first = f"DATE(YEAR({d}),{start_month},1)"
    after = f"DATE(YEAR({d}),{start_month}+{months},1)"
    if key == "period":
        labels = _settlement_column(at.layout, "period")
        expr = f'IF({p}="","",INDEX({labels},{p}))'
    elif key == "first":
        expr = f'IF({p}="","",{first})'
    elif key == "days":
        expr = f'IF({p}="","",{after}-{first})'
    elif key == "elapsed":
        expr = f'IF({p}="","",{d}-{first}+1)'
    elif key == "remaining":
        expr = f'IF({p}="","",{at.header("days")}-{at.header("elapsed")})'
    else:  # ready
        inputs = [at.column_cell(name, "used") for name in at.columns]
        known = "+".join(f"ISNUMBER({ref})" for ref in inputs)
        expr = f'IF(AND({p}<>"",{known}={len(inputs)}),1,0)'
    return expr, expr


def _projected(at: PacingLayout, name: str) -> tuple[str, str]:
    to_date = at.column_cell(name, "used")
    n, e = at.header("days"), at.header("elapsed")
    kind = at.kinds[name]
    native = f"IF({e}={n},{to_date},{to_date}*{n}/{e})" if kind == "sum" else to_date
    udf = f'KPIXL_PACE({to_date},"{kind}",{n},{e})'
    return _ready(at, native), _ready(at, udf)


def _shape(at: PacingLayout, k: int) -> str:
    kpi = at.layout.contract.kpis[k]
    return "ratio" if kpi.ratio is not None else at.kinds[kpi.source_column]


def _kpi_formulas(at: PacingLayout, k: int, field: str) -> tuple[str, str]:
    """KPI k's formula for a field of the KPI table, native and udf."""
    if field in ("to_date", "projected", "target", "baseline"):
        expr = _kpi_measure(at, k, field)
        return _ready(at, expr), _ready(at, expr)
    if field in ("attainment", "factor", "payout"):
        native, udf = _kpi_settled(at, k, field)
    elif field in ("next", "needed"):
        native, udf = _kpi_next(at, k, field)
    else:
        native, udf = _kpi_rest(at, k, field)
    return _ready(at, native), _ready(at, udf)


def _kpi_measure(at: PacingLayout, k: int, field: str) -> str:
    layout = at.layout
    kpi = layout.contract.kpis[k]
    if field in ("target", "baseline"):
        which = "effective" if field == "target" else "baseline"
        return f"INDEX({layout.target_span(k, which, layout.contract.periods)},{at.header('p')})"
    column_field = "used" if field == "to_date" else field
    if kpi.ratio is None:
        return at.column_cell(kpi.source_column, column_field)
    num, den = (at.column_cell(c, column_field) for c in kpi.ratio)
    return f"{num}/{den}"


def _kpi_settled(at: PacingLayout, k: int, field: str) -> tuple[str, str]:
    """Attainment, factor and payout of the projection: the Settlement sheet's formulas."""
    layout = at.layout
    if field == "attainment":
        actual, target = at.kpi_cell(k, "projected"), at.kpi_cell(k, "target")
        base = at.kpi_cell(k, "baseline") if layout.contract.kpis[k].baseline is not None else None
        return (
            cf.attainment_native(layout, k, actual, target, base),
            cf.attainment_udf(layout, k, actual, target, base),
        )
    a = at.kpi_cell(k, "attainment")
    if field == "factor":
        return cf.factor_native(layout, k, a), cf.factor_udf(layout, k, a)
    d = layout.quote("decimals")
    pool, weight, f = layout.quote("pool"), layout.kpi(k, "weight"), at.kpi_cell(k, "factor")
    return f"ROUND({pool}*{weight}*{f},{d})", f"KPIXL_PAYOUT({pool},{weight},{f},{d})"


def _kpi_next(at: PacingLayout, k: int, field: str) -> tuple[str, str]:
    """The next breakpoint above the projected attainment and the actual A* that reaches it."""
    layout = at.layout
    a, b = at.kpi_cell(k, "attainment"), at.kpi_cell(k, "next")
    points = at.candidates_range(k)
    if field == "next":
        refs = [at.candidate(k, i) for i in range(len(_candidates(layout, k)))]
        terms = ",".join(f"IF(AND(ISNUMBER({h}),{h}>{a}),{h},{NONE})" for h in refs)
        return f'IF(MIN({terms})>={NONE},"",MIN({terms}))', f"KPIXL_NEXTSTEP({a},{points})"
    target, direction = at.kpi_cell(k, "target"), layout.kpi(k, "direction")
    if layout.contract.kpis[k].baseline is None:
        core = f'IF({direction}="lower",(2-{b})*{target},{b}*{target})'
        base = '""'
    else:
        base = at.kpi_cell(k, "baseline")
        lower = f"{base}-{b}*({base}-{target})"
        core = f'IF({direction}="lower",{lower},{base}+{b}*({target}-{base}))'
    udf = f"KPIXL_NEXTSTEP({a},{points},{direction},{target},{base})"
    return f'IF({b}="","",{core})', f'IF({b}="","",{udf})'


def _kpi_rest(at: PacingLayout, k: int, field: str) -> tuple[str, str]:
    """What the rest of the period needs (SPEC §9), and per remaining day for sum KPIs."""
    kpi = at.layout.contract.kpis[k]
    n, e, r = at.header("days"), at.header("elapsed"), at.header("remaining")
    b, needed = at.kpi_cell(k, "next"), at.kpi_cell(k, "needed")
    shape = _shape(at, k)
    den = '""'
    if kpi.ratio is None:
        to_date = at.column_cell(kpi.source_column, "used")
    else:
        to_date, den = (at.column_cell(c, "used") for c in kpi.ratio)
    if field == "per_day":
        rest = at.kpi_cell(k, "rest")
        udf = f'KPIXL_REST("sum",{needed},{to_date},{n},{e},"",TRUE)'
        return f'IF({rest}="","",{rest}/{r})', f'IF({b}="","",{udf})'
    if shape == "ratio":
        projected_den = f"({den}*{n}/{e})"
        core = f"({needed}*{projected_den}-{to_date})/({projected_den}-{den})"
    elif shape == "sum":
        core = f"{needed}-{to_date}"
    elif shape == "mean":
        core = f"({needed}*{n}-{to_date}*{e})/{r}"
    else:
        core = needed
    udf = f'KPIXL_REST("{shape}",{needed},{to_date},{n},{e},{den})'
    return f'IF(OR({b}="",{r}=0),"",{core})', f'IF({b}="","",{udf})'


def _candidate_formula(at: PacingLayout, k: int, candidate: str) -> str:
    cap = at.layout.kpi(k, "attainment_cap")
    kept = f'IF(ISNUMBER({cap}),IF({candidate}<={cap},{candidate},""),{candidate})'
    if candidate == "1":
        return kept
    return f'IF(ISNUMBER({candidate}),{kept},"")'


def _multiplier(at: PacingLayout) -> tuple[str, str]:
    """The guardrail multiplier on the projected values (SPEC §5.6), native and udf."""
    layout = at.layout
    native: list[str] = []
    udf: list[str] = []
    for j, guardrail in enumerate(layout.contract.guardrails):
        if guardrail.ratio is None:
            value = at.column_cell(guardrail.source_column, "projected")
        else:
            num, den = (at.column_cell(c, "projected") for c in guardrail.ratio)
            value = f"({num}/{den})"
        op, bound = layout.guardrail(j, "op"), layout.guardrail(j, "bound")
        effect, mult = layout.guardrail(j, "effect"), layout.guardrail(j, "multiplier")
        native.append(f'IF({cf.holds(value, op, bound)},1,IF({effect}="gate",0,{mult}))')
        udf.append(f"KPIXL_GUARDRAIL({value},{op},{bound},{effect},{mult})")
    return _ready(at, "*".join(native) or "1"), _ready(at, "*".join(udf) or "1")


def _summary_formulas(at: PacingLayout, key: str) -> tuple[str, str]:
    """The projected fee below the KPI table: multiplier, caps, base and total (SPEC §5.6-5.10)."""
    layout = at.layout
    if key == "m":
        return _multiplier(at)
    if key == "bonus":
        amount, paid = at.summary("uncapped"), at.summary("paid_before")
        period_cap = layout.quote("period_cap")
        return (
            _ready(at, cf.caps(layout, amount, period_cap, paid, "native")),
            _ready(at, cf.caps(layout, amount, period_cap, paid, "udf")),
        )
    d = layout.quote("decimals")
    if key == "base" and layout.contract.min_input is not None:
        base = layout.quote("base")
        days, required = at.column_cell("person_days", "projected"), layout.quote("person_days")
        native = f"ROUND({base}*MIN(1,{days}/{required}),{d})"
        return _ready(at, native), _ready(at, f"KPIXL_BASE({base},{days},{required},{d})")
    if key == "uncapped":
        payouts = "+".join(at.kpi_cell(k, "payout") for k in range(layout.k))
        expr = f"({payouts})*{at.summary('m')}"
    elif key == "paid_before":
        periods, bonuses = _settlement_column(layout, "p"), _settlement_column(layout, "bonus")
        expr = f'SUMIF({periods},"<"&{at.header("p")},{bonuses})'
    elif key == "base":
        expr = layout.quote("base")
    else:
        expr = f"{at.summary('base')}+{at.summary('bonus')}"
    return _ready(at, f"ROUND({expr},{d})"), _ready(at, f"KPIXL_ROUND({expr},{d})")


def pacing_label(key: str, layout: Layout, lang: Lang) -> str:
    """The text of a Pacing label cell (``label.pacing.*``) or a fixed text cell."""
    if key == "title":
        return label(*TITLE, lang)
    group, _, name = key.partition(".")
    if group == "daily":
        return label(*daily_labels()[name], lang)
    tables = {"columns": COLUMN_FIELDS, "kpis": KPI_FIELDS, "summary": SUMMARY_FIELDS}
    fields = tables.get(group, HEADER_ROWS)
    entry = {f[0]: f for f in fields}[name if group in tables else key]
    return label(entry[1], entry[2], lang)


def pacing_fixed_values(layout: Layout) -> dict[str, Any]:
    """The fixed (non-label) cells: column names, their kinds, KPI codes, the daily header."""
    at = PacingLayout(layout)
    out: dict[str, Any] = {}
    for name, kind in at.kinds.items():
        out[f"pacing.column.{name}"] = name
        out[f"pacing.kind.{name}"] = kind
    for k, kpi in enumerate(layout.contract.kpis):
        out[f"pacing.kpi[{k}].code"] = kpi.code
    out.update(daily_fixed_values(at.daily))
    return out


def pacing_input_values(inputs: PacingInputs, layout: Layout | None = None) -> dict[str, Any]:
    """The input cells' values by schema key (the daily rows too when ``layout`` is given)."""
    out: dict[str, Any] = {
        "pacing.as_of": inputs.as_of,
        "pacing.days_with_data": inputs.days_with_data,
    }
    out.update({f"pacing.to_date.{name}": value for name, value in inputs.to_date.items()})
    if layout is not None:
        out.update(daily_input_values(PacingLayout(layout).daily, inputs.daily))
    return out


def _formula_refs(layout: Layout, given: Iterable[str] | None) -> Iterable[str]:
    if given is not None:
        return given
    return [spec.ref for spec in pacing_cells(layout, "en") if spec.kind == "formula"]


def pacing_values(
    layout: Layout,
    inputs: PacingInputs,
    data: PeriodData | None,
    formula_refs: Iterable[str] | None = None,
) -> dict[str, CellValue]:
    """Every Pacing formula cell's value by address, from the engine (blank until ready).

    The to-date figures are the pasted daily rows' (the engine's ``to_date_of`` by column kind)
    when any row is pasted, else the typed ones; the projection is ``pace_to_date``'s.

    Args:
        layout: the workbook layout.
        inputs: what the Pacing sheet holds.
        data: the Actuals sheet resolved (its settlement gives the bonus paid before).
        formula_refs: the addresses of the sheet's formula cells when the caller has them (a
            built schema's); None: from :func:`pacing_cells` (which costs more than the rest).

    Returns:
        Values by Pacing address.
    """
    at = PacingLayout(layout)
    contract = layout.contract
    values: dict[str, CellValue] = {}
    for ref in _formula_refs(layout, formula_refs):
        values[ref] = ""
    as_of = inputs.as_of or last_pasted_day(inputs.daily)
    index = None if as_of is None else period_containing(contract, as_of)
    values[_rel(at.header("ready"))] = 0.0
    if as_of is not None:
        values[_rel(at.header("as_of_used"))] = serial(as_of)
    # The breakpoint candidates come from the contract's terms alone: always shown.
    for k, kpi in enumerate(contract.kpis):
        cap = kpi.attainment_cap
        for i, point in enumerate(_candidate_values(kpi)):
            kept = point is not None and (cap is None or point <= cap)
            values[_rel(at.candidate(k, i))] = point if kept and point is not None else ""
    figures = check_rows(contract, inputs.daily, index, as_of)
    values.update(block_values(at.daily, figures))
    _daily_messages(values, at, figures)
    if as_of is None or index is None:
        return values
    first, last = period_dates(contract, index)
    n, e = (last - first).days + 1, (as_of - first).days + 1
    header: dict[str, CellValue] = {
        "p": float(index),
        "period": contract.period_label(index),
        "first": serial(first),
        "days": float(n),
        "elapsed": float(e),
        "remaining": float(n - e),
    }
    for key, value in header.items():
        values[_rel(at.header(key))] = value
    used = _used(at, inputs, figures, first, as_of)
    for name, figure in used.items():
        values[_rel(at.column_cell(name, "used"))] = "" if figure is None else figure
    typed = {name: v for name, v in used.items() if v is not None}
    if len(typed) < len(at.columns):
        return values
    values[_rel(at.header("ready"))] = 1.0
    for name in at.columns:
        values[_rel(at.column_cell(name, "projected"))] = project(typed[name], at.kinds[name], n, e)
    paid = 0.0
    if data is not None and any(i < index for i in data.indices):
        earlier = [p.bonus for p in settled(contract, data).periods if p.index < index]
        paid = excel_round(sum(earlier), contract.decimals)
    days = figures.counts["used"] if figures.pasted else inputs.days_with_data or 0
    try:
        result = pace_to_date(contract, as_of, typed, days, paid)
    except KpixlError:  # a ratio whose denominator is 0: the formulas show #DIV/0!
        return values
    _fill(values, at, result, paid)
    return values


def _daily_messages(values: dict[str, CellValue], at: PacingLayout, figures: DailyFigures) -> None:
    """The header's source and check messages (the block's formulas say the same)."""
    source = SOURCES["daily" if figures.pasted else "typed"]
    values[_rel(at.header("source"))] = bilingual(source)
    if not figures.pasted:
        check = CHECKS["none"]
    elif figures.bad:
        check = CHECKS["fix"]
    else:
        check = CHECKS["outside" if figures.counts["outside"] else "ok"]
    values[_rel(at.header("check"))] = bilingual(check)


def _used(
    at: PacingLayout, inputs: PacingInputs, figures: DailyFigures, first: dt.date, as_of: dt.date
) -> dict[str, float | None]:
    """Each column's to-date figure: from the pasted rows (none while one is bad), else typed."""
    if not figures.pasted:
        return {name: inputs.to_date.get(name) for name in at.columns}
    if figures.bad:
        return dict.fromkeys(at.columns)
    return {
        name: to_date_from_rows(inputs.daily, name, at.kinds[name], first, as_of)
        for name in at.columns
    }


def _fill(
    values: dict[str, CellValue],
    at: PacingLayout,
    result: Pacing,
    paid: float,
) -> None:
    layout = at.layout
    for k, (kpi, figures) in enumerate(zip(layout.contract.kpis, result.kpis, strict=True)):
        row: dict[str, CellValue] = {
            "to_date": figures.to_date,
            "projected": figures.projected,
            "target": figures.target,
            "attainment": figures.attainment,
            "factor": figures.factor,
            "payout": figures.payout,
        }
        if kpi.baseline is not None:
            baselines = kpi.baselines(layout.contract.periods) or ()
            row["baseline"] = baselines[result.index - 1]
        step = figures.next_step
        row["next"] = "" if step is None else step.attainment
        row["needed"] = "" if step is None else step.actual
        rest = None if step is None else step.rest_of_period
        row["rest"] = "" if rest is None else rest
        if _shape(at, k) == "sum":
            per_day = None if step is None else step.per_day
            row["per_day"] = "" if per_day is None else per_day
        for field, value in row.items():
            values[_rel(at.kpi_cell(k, field))] = value
    summary = {
        "m": result.guardrail_multiplier,
        "uncapped": result.bonus_before_caps,
        "paid_before": paid,
        "bonus": result.bonus,
        "base": result.base,
        "total": result.total,
    }
    for key, value in summary.items():
        values[_rel(at.summary(key))] = value


def _candidate_values(kpi: Kpi) -> list[float | None]:
    """The candidates of ``_candidates`` as the contract holds them (None: no threshold)."""
    froms = list(kpi.curve.froms) if kpi.curve is not None else []
    return [kpi.threshold, *froms, 1.0]


def read_pacing_inputs(book: Any, layout: Layout) -> PacingInputs:
    """What the Pacing sheet of an openpyxl workbook holds; anything unreadable is blank.

    A workbook without a Pacing sheet (built by an older kpixl) reads as blank inputs.
    """
    if PACING not in book.sheetnames:
        return blank_inputs(layout)
    sheet = book[PACING]
    at = PacingLayout(layout)
    as_of = _date(sheet[_rel(at.header("as_of"))].value)
    days = _number(sheet[_rel(at.header("days_with_data"))].value)
    to_date = {
        name: _number(sheet[_rel(at.column_cell(name, "to_date"))].value) for name in at.columns
    }
    whole = None if days is None or not days.is_integer() else int(days)
    return PacingInputs(as_of, whole, to_date, read_rows(sheet, at.daily, _date, _number))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    number = _number(value)
    if number is not None and 1 <= number < 2958466:  # an Excel date serial (1900 system)
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(number))
    return None


def pacing_issues(label_: str, layout: Layout, inputs: PacingInputs | None) -> list[Issue]:
    """KX238 for the pasted daily rows: a day twice, a day outside the open period."""
    if inputs is None or not inputs.daily:
        return []
    as_of = inputs.as_of or last_pasted_day(inputs.daily)
    index = None if as_of is None else period_containing(layout.contract, as_of)
    at = PacingLayout(layout)
    return daily_issues(label_, layout.contract, at.daily, inputs.daily, index, as_of)


def pacing_wraps(key: str) -> bool:
    """Whether a Pacing label wraps in its cell (every one but the two titles)."""
    return key.startswith("label.pacing.") and key not in (
        "label.pacing.title",
        "label.pacing.daily.title",
    )


def print_pacing(sheet: Any, layout: Layout) -> None:
    """Print setup of the Pacing sheet: the projection on A4 landscape, one page wide.

    The daily rows below it are the working data: they do not print. Wrapped labels get the
    height of their lines (LibreOffice and Excel keep the height they are given).

    Args:
        sheet: the XlsxWriter worksheet.
        layout: the workbook layout.
    """
    at = PacingLayout(layout)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.print_area(0, 0, at.last_row, len(KPI_FIELDS) - 1)
    sheet.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
    contract_id = layout.contract.id.replace("&", "&&")
    sheet.set_header(f"&L{contract_id}&R{label(*TITLE, 'both')}")
    sheet.set_footer("&LKPI-linked service fee / KPI绑定服务费&RPage &P of &N")
    widths = dict(PACING_WIDTHS)
    rows: list[tuple[int, list[tuple[str, float]]]] = []
    for i, (_key, en, zh) in enumerate(HEADER_ROWS):
        rows.append((HEADER_FIRST_ROW + i, [(label(en, zh, "both"), widths[0])]))
    for i, (_key, en, zh) in enumerate(SUMMARY_FIELDS):
        rows.append((at.summary_first_row + i, [(label(en, zh, "both"), widths[0])]))
    for row, fields in ((at.column_header_row, COLUMN_FIELDS), (at.kpi_header_row, KPI_FIELDS)):
        texts = [(label(en, zh, "both"), widths[c]) for c, (_k, en, zh) in enumerate(fields)]
        rows.append((row, texts))
    for row, texts in rows:
        sheet.set_row(row, 15 * max(_lines(text, width) for text, width in texts))


def _lines(text: str, width: float) -> int:
    """Lines a text takes wrapped in a column ``width`` characters wide (CJK counts twice)."""
    needed = sum(2 if ord(char) > 0x2E7F else 1 for char in text)
    per_line = max(1, int(width * 1.2))  # LibreOffice and Excel fit ~1.2 characters per unit
    return max(1, -(-needed // per_line))
