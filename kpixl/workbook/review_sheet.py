"""The Review sheet: the renewal facts of the settled periods, inside the standard workbook.

Every cell reads the Settlement sheet's own figures (counts, sums, means and ratios of them);
its cached values are the engine's ``review`` (kpixl/engine/review.py). Cells, formulas in
both modes, cached values and the attainment chart are all here; the template, the builder
and the cache call in.
"""

from __future__ import annotations

from typing import Any

from kpixl.actuals import PeriodData
from kpixl.engine.review import Review, half_length, review
from kpixl.workbook.layout import (
    ACTUALS,
    CHECK,
    PERCENT,
    REVIEW,
    SETTLEMENT,
    CellSpec,
    Lang,
    Layout,
    PrintSpec,
    SheetSpec,
    ValueType,
    cell,
    column,
    label,
)
from kpixl.workbook.settled import settled

CellValue = float | bool | str

TITLE = (
    "Review for renewal: the settled periods (periods whose actuals are entered)",
    "续约复盘：已结算期（已录入实际数据的期间）",
)
HEADER_ROWS: tuple[tuple[str, str, str], ...] = (
    ("settled", "Periods settled", "已结算期数"),
    ("periods", "Periods in the contract", "合同期数"),
    ("half", "Periods in each half", "前后半程各含期数"),
)
#: The sections' headings, by key.
HEADINGS: dict[str, tuple[str, str]] = {
    "attainment": ("Attainment per period (target = 100 %)", "各期达成率（目标 = 100 %）"),
    "kpis": ("Per KPI", "各指标"),
    "fee": ("The fee", "服务费"),
    "periods": ("The fee per period", "各期服务费"),
    "exit": ("The exit clause", "退出条款"),
    "adjustments": ("Adjustments", "调整"),
}
ATTAINMENT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("period", "Period", "结算期"),
    ("settled", "Settled #", "结算序号"),
)
TARGET = ("Target", "目标")
KPI_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("code", "KPI", "KPI"),
    ("at_target", "Periods at or above target", "达到或超过目标的期数"),
    ("below", "Periods below threshold", "低于门槛的期数"),
    ("first", "First-half average attainment", "前半程平均达成率"),
    ("second", "Second-half average attainment", "后半程平均达成率"),
)
FEE_ROWS: tuple[tuple[str, str, str], ...] = (
    ("base", "Base fee paid", "已付基础服务费"),
    ("bonus", "KPI bonus paid", "已付绩效奖金"),
    ("total", "Total fee paid", "已付总服务费"),
    ("pool", "Bonus pool × periods settled", "奖金池 × 已结算期数"),
    ("bonus_share", "Bonus as a share of that pool", "奖金占该奖金池比例"),
    ("revenue", "Revenue (settled periods)", "销售额（已结算期）"),
    ("fee_share", "Fee as % of revenue", "服务费占销售额"),
    ("growth", "Revenue growth, first to latest", "销售额增长（首期至最近期）"),
)
PERIOD_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("period", "Period", "结算期"),
    ("base", "Base fee", "基础服务费"),
    ("bonus", "KPI bonus", "绩效奖金"),
    ("total", "Total fee", "总服务费"),
    ("revenue", "Revenue", "销售额"),
    ("fee_share", "Fee % of revenue", "服务费占销售额"),
    ("growth", "Revenue growth from the first period", "较首期销售额增长"),
    ("over_baseline", "Revenue above baseline", "销售额高于基线"),
)
EXIT_ROWS: tuple[tuple[str, str, str], ...] = (
    ("threshold", "Exit threshold (W)", "退出阈值 (W)"),
    ("consecutive", "Exit after misses in a row", "连续未达标可退出期数"),
    ("misses", "Periods missed", "未达标期数"),
    ("longest", "Longest run of misses", "最长连续未达标"),
    ("exit_now", "Client may exit now", "客户现可退出"),
)
ADJUSTMENT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("metric", "Metric column", "数据列"),
    ("count", "Adjustments", "调整次数"),
    ("net", "Net change of the metric", "数据净变动"),
)
ADJUSTMENT_COUNT = ("Adjustments applied", "已应用调整")
#: Rows the attainment chart takes below the attainment table.
CHART_ROWS = 18
#: What a chart point of a period not settled holds.
NOT_SETTLED = "#N/A"
COUNT = "0"
METRIC = "#,##0.00##"


def _keyed(fields: tuple[tuple[str, str, str], ...], key: str) -> int:
    return [f[0] for f in fields].index(key)


class ReviewLayout:
    """Addresses on the Review sheet of one contract (0-based rows and columns)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        n, k = layout.n, layout.k
        self.header_first_row = 2
        self.attainment_heading_row = self.header_first_row + len(HEADER_ROWS) + 1
        self.attainment_header_row = self.attainment_heading_row + 1
        self.chart_row = self.attainment_header_row + n + 2
        self.kpi_heading_row = self.chart_row + CHART_ROWS
        self.kpi_header_row = self.kpi_heading_row + 1
        self.fee_heading_row = self.kpi_header_row + k + 2
        self.periods_heading_row = self.fee_heading_row + len(FEE_ROWS) + 2
        self.periods_header_row = self.periods_heading_row + 1
        self.exit_heading_row = self.periods_header_row + n + 2
        self.adjustments_heading_row = self.exit_heading_row + len(EXIT_ROWS) + 2
        self.adjustments_header_row = self.adjustments_heading_row + 2
        self.last_row = self.adjustments_header_row + len(layout.metrics)
        self.target_col = len(ATTAINMENT_FIELDS) + k
        self.last_col = max(self.target_col, len(PERIOD_FIELDS) - 1)
        #: The chart's series, in hidden columns right of the printed ones: #N/A where a
        #: period is not settled, which a line chart leaves out (a blank text is drawn as 0 %).
        self.chart_first_col = self.last_col + 2

    def header(self, key: str) -> str:
        return cell(self.header_first_row + _keyed(HEADER_ROWS, key), 1, True)

    def attainment_row(self, p: int) -> int:
        return self.attainment_header_row + p

    def settled(self, p: int) -> str:
        return cell(self.attainment_row(p), 1, True)

    @property
    def settled_range(self) -> str:
        return f"{self.settled(1)}:{self.settled(self.layout.n)}"

    def attainment(self, p: int, k: int) -> str:
        return cell(self.attainment_row(p), len(ATTAINMENT_FIELDS) + k, True)

    def attainment_range(self, k: int) -> str:
        return f"{self.attainment(1, k)}:{self.attainment(self.layout.n, k)}"

    def chart_point(self, p: int, k: int) -> str:
        return cell(self.attainment_row(p), self.chart_first_col + k, True)

    def target(self, p: int) -> str:
        return cell(self.attainment_row(p), self.target_col, True)

    def kpi_cell(self, k: int, field: str) -> str:
        return cell(self.kpi_header_row + 1 + k, _keyed(KPI_FIELDS, field), True)

    def fee(self, key: str) -> str:
        return cell(self.fee_heading_row + 1 + _keyed(FEE_ROWS, key), 1, True)

    def period_cell(self, p: int, field: str) -> str:
        return cell(self.periods_header_row + p, _keyed(PERIOD_FIELDS, field), True)

    def period_range(self, field: str) -> str:
        return f"{self.period_cell(1, field)}:{self.period_cell(self.layout.n, field)}"

    def exit(self, key: str) -> str:
        return cell(self.exit_heading_row + 1 + _keyed(EXIT_ROWS, key), 1, True)

    @property
    def adjustment_count(self) -> str:
        return cell(self.adjustments_heading_row + 1, 1, True)

    def adjustment_cell(self, m: int, field: str) -> str:
        return cell(self.adjustments_header_row + 1 + m, _keyed(ADJUSTMENT_FIELDS, field), True)


def _rel(ref: str) -> str:
    return ref.replace("$", "")


def _settlement_range(layout: Layout, key: str) -> str:
    """A Settlement column over every period."""
    col = column(layout.scol(key))
    return f"{SETTLEMENT}!${col}$2:${col}${layout.n + 1}"


def _settlement(layout: Layout, key: str, p: int) -> str:
    """Period p's Settlement cell."""
    return f"{SETTLEMENT}!{cell(layout.srow(p), layout.scol(key), True)}"


def money_format(layout: Layout) -> str:
    decimals = layout.contract.decimals
    return "#,##0" if decimals == 0 else "#,##0." + "0" * decimals


def _formula(
    key: str,
    ref: str,
    native: str,
    udf: str | None = None,
    number_format: str | None = None,
    value_type: ValueType = "number",
) -> CellSpec:
    return CellSpec(
        REVIEW,
        _rel(ref),
        key,
        "formula",
        value_type,
        native=native,
        udf=native if udf is None else udf,
        number_format=number_format,
        role="formula",
        field=key,
    )


def _label(ref: str, key: str) -> CellSpec:
    return CellSpec(REVIEW, _rel(ref), f"label.review.{key}", "fixed", "text", role="label")


def _marker(ref: str, key: str, field: str) -> CellSpec:
    return CellSpec(REVIEW, _rel(ref), key, "fixed", "text", role="marker", field=field)


def review_sheet(layout: Layout) -> SheetSpec:
    """The Review sheet: A4 portrait, one page wide, header and footer (handed to the client)."""
    at = ReviewLayout(layout)
    widths = ((0, 48.0), *((c, 15.0) for c in range(1, at.chart_first_col + layout.k)))
    printing = PrintSpec(
        portrait=True,
        area=(0, 0, at.last_row, at.last_col),
        breaks=(at.fee_heading_row,),
        header_footer=True,
    )
    return SheetSpec(REVIEW, widths=widths, printing=printing)


def review_cells(layout: Layout) -> list[CellSpec]:
    """Every cell of the Review sheet: labels, markers and formulas in both modes."""
    at = ReviewLayout(layout)
    cells = [_label("A1", "title")]
    cells += _header_cells(at)
    cells += _attainment_cells(at)
    cells += _kpi_cells(at)
    cells += _fee_cells(at)
    cells += _period_cells(at)
    cells += _exit_cells(at)
    cells += _adjustment_cells(at)
    return cells


def _any(at: ReviewLayout, expr: str) -> str:
    """Blank while no period is settled."""
    return f'IF({at.header("settled")}=0,"",{expr})'


def _header_cells(at: ReviewLayout) -> list[CellSpec]:
    layout = at.layout
    cells = []
    for i, (key, _en, _zh) in enumerate(HEADER_ROWS):
        cells.append(_label(cell(at.header_first_row + i, 0), f"header.{key}"))
    settled = f'COUNTIF({_settlement_range(layout, "n")},">0")'
    half = _any(at, f"INT({at.header('settled')}/2)")
    cells.append(_formula("review.settled", at.header("settled"), settled, None, COUNT))
    periods = layout.quote("periods")
    cells.append(_formula("review.periods", at.header("periods"), periods, None, COUNT))
    cells.append(_formula("review.half", at.header("half"), half, None, COUNT))
    return cells


def _attainment_cells(at: ReviewLayout) -> list[CellSpec]:
    layout = at.layout
    row = at.attainment_header_row
    cells = [_label(cell(at.attainment_heading_row, 0), "heading.attainment")]
    for c, (key, _en, _zh) in enumerate(ATTAINMENT_FIELDS):
        cells.append(_label(cell(row, c), f"attainment.{key}"))
    for k in range(layout.k):
        ref = cell(row, len(ATTAINMENT_FIELDS) + k)
        cells.append(_marker(ref, f"review.attainment.code[{k}]", f"kpis[{k}].code"))
    cells.append(_label(cell(row, at.target_col), "attainment.target"))
    for k in range(layout.k):
        ref = cell(row, at.chart_first_col + k)
        cells.append(_marker(ref, f"review.chart.code[{k}]", f"kpis[{k}].code"))
    n_range = _settlement_range(layout, "n")
    first_n = n_range.split(":")[0]
    for p in range(1, layout.n + 1):
        ref = cell(at.attainment_row(p), 0)
        cells.append(_marker(ref, f"review.period[{p}]", f"periods[{p}].label"))
        n = _settlement(layout, "n", p)
        settled = f'IF({n}=0,"",COUNTIF({first_n}:{n.split("!")[1]},">0"))'
        cells.append(_formula(f"review.settled[{p}]", at.settled(p), settled, None, COUNT))
        for k, kpi in enumerate(layout.contract.kpis):
            source = _settlement(layout, f"attainment:{kpi.code}", p)
            expr = f'IF({at.settled(p)}="","",{source})'
            key = f"review.attainment[{p}][{k}]"
            cells.append(_formula(key, at.attainment(p, k), expr, None, PERCENT))
        cells.append(_formula(f"review.target[{p}]", at.target(p), "1", None, PERCENT))
        for k in range(layout.k):
            point = f'IF({at.attainment(p, k)}="",NA(),{at.attainment(p, k)})'
            key = f"review.chart[{p}][{k}]"
            cells.append(_formula(key, at.chart_point(p, k), point, None, PERCENT))
    return cells


def _kpi_cells(at: ReviewLayout) -> list[CellSpec]:
    layout = at.layout
    cells = [_label(cell(at.kpi_heading_row, 0), "heading.kpis")]
    for c, (key, _en, _zh) in enumerate(KPI_FIELDS):
        cells.append(_label(cell(at.kpi_header_row, c), f"kpis.{key}"))
    half = at.header("half")
    settled = at.header("settled")
    for k in range(layout.k):
        cells.append(_marker(at.kpi_cell(k, "code"), f"review.kpi[{k}].code", f"kpis[{k}].code"))
        own = at.attainment_range(k)
        # Settled rows only ((settled # <> "")*...): a blank text compares above any number.
        # No COUNTIF over the attainments, which would count an error (a udf workbook opened
        # without the add-in) as a miss instead of passing it on; no ISNUMBER over a range,
        # which Gnumeric does not take element by element.
        rows = f'({at.settled_range}<>"")'
        at_target = _any(at, f"SUMPRODUCT({rows}*({own}>=1))")
        threshold = layout.kpi(k, "threshold")
        below = (
            f'IF(OR({settled}=0,NOT(ISNUMBER({threshold}))),"",'
            f"SUMPRODUCT({rows}*({own}<{threshold})))"
        )
        first = f'IF(N({half})=0,"",SUMIF({at.settled_range},"<="&{half},{own})/{half})'
        second = f'IF(N({half})=0,"",SUMIF({at.settled_range},">"&({settled}-{half}),{own})/{half})'
        figures = {
            "at_target": (at_target, None, COUNT),
            "below": (below, None, COUNT),
            "first": (first, f'KPIXL_HALF({own},"first")', PERCENT),
            "second": (second, f'KPIXL_HALF({own},"second")', PERCENT),
        }
        for field, (native, wrapped, fmt) in figures.items():
            udf = None if wrapped is None else f'IF(N({half})=0,"",{wrapped})'
            key = f"review.kpi[{k}].{field}"
            cells.append(_formula(key, at.kpi_cell(k, field), native, udf, fmt))
    return cells


def _revenue_kpis(layout: Layout) -> list[int]:
    """KPIs whose actuals give each period's own revenue (the engine's ``_revenues`` rule)."""
    if not layout.cumulative:
        return list(range(layout.k))
    return [
        k
        for k, kpi in enumerate(layout.contract.kpis)
        if kpi.ratio is None and kpi.rolls_up == "sum"
    ]


def _by_revenue_kpi(layout: Layout, kpis: list[int], pick: Any) -> str:
    """The figure of the KPI the Quote's revenue KPI names (blank when none does)."""
    expr = '""'
    for k in reversed(kpis):
        expr = f"IF({layout.quote('revenue_kpi')}={layout.kpi(k, 'code')},{pick(k)},{expr})"
    return expr


def _fee_cells(at: ReviewLayout) -> list[CellSpec]:
    layout = at.layout
    money = money_format(layout)
    cells = [_label(cell(at.fee_heading_row, 0), "heading.fee")]
    for key, _en, _zh in FEE_ROWS:
        cells.append(_label(cell(at.fee_heading_row + 1 + _keyed(FEE_ROWS, key), 0), f"fee.{key}"))
    settled = at.header("settled")
    pool, bonus = at.fee("pool"), at.fee("bonus")
    revenue, total = at.fee("revenue"), at.fee("total")
    latest = f"MATCH({settled},{at.settled_range},0)"
    figures = {
        "base": (_any(at, f"{SETTLEMENT}!{layout.total('base', True)}"), money),
        "bonus": (_any(at, f"{SETTLEMENT}!{layout.total('bonus', True)}"), money),
        "total": (_any(at, f"{SETTLEMENT}!{layout.total('total', True)}"), money),
        "pool": (_any(at, f"{layout.quote('pool')}*{settled}"), money),
        "bonus_share": (f'IF(OR({pool}="",{pool}=0),"",{bonus}/{pool})', PERCENT),
        "revenue": (
            _any(
                at,
                f'IF(COUNT({at.period_range("revenue")})=0,"",SUM({at.period_range("revenue")}))',
            ),
            money,
        ),
        "fee_share": (f'IF(OR({revenue}="",{revenue}=0),"",{total}/{revenue})', PERCENT),
        "growth": (_any(at, f"INDEX({at.period_range('growth')},{latest})"), PERCENT),
    }
    for key, (native, fmt) in figures.items():
        cells.append(_formula(f"review.fee.{key}", at.fee(key), native, None, fmt))
    return cells


def _period_cells(at: ReviewLayout) -> list[CellSpec]:
    layout = at.layout
    money = money_format(layout)
    cells = [_label(cell(at.periods_heading_row, 0), "heading.periods")]
    for c, (key, _en, _zh) in enumerate(PERIOD_FIELDS):
        cells.append(_label(cell(at.periods_header_row, c), f"periods.{key}"))
    kpis = _revenue_kpis(layout)
    with_baseline = [k for k in kpis if layout.contract.kpis[k].baseline is not None]
    first = f"INDEX({at.period_range('revenue')},MATCH(1,{at.settled_range},0))"
    for p in range(1, layout.n + 1):
        ref = _rel(at.period_cell(p, "period"))
        cells.append(_marker(ref, f"review.fee_period[{p}]", f"periods[{p}].label"))
        settled = at.settled(p)

        def when(expr: str, p_settled: str = settled) -> str:
            return f'IF({p_settled}="","",{expr})'

        def own_revenue(k: int, p: int = p) -> str:
            code = layout.contract.kpis[k].code
            actual = _settlement(layout, f"actual:{code}", p)
            if not layout.cumulative or p == 1:
                return actual
            return f"{actual}-{_settlement(layout, f'actual:{code}', p - 1)}"

        def baseline(k: int, p: int = p) -> str:
            return layout.target(k, "baseline", p)

        revenue = at.period_cell(p, "revenue")
        total = at.period_cell(p, "total")
        base_of = _by_revenue_kpi(layout, with_baseline, baseline)
        figures = {
            "base": (when(_settlement(layout, "base", p)), money),
            "bonus": (when(_settlement(layout, "bonus", p)), money),
            "total": (when(_settlement(layout, "total", p)), money),
            "revenue": (when(_by_revenue_kpi(layout, kpis, own_revenue)), money),
            "fee_share": (f'IF(OR({revenue}="",{revenue}=0),"",{total}/{revenue})', PERCENT),
            "growth": (
                f'IF({revenue}="","",IF(OR({first}="",{first}=0),"",{revenue}/{first}-1))',
                PERCENT,
            ),
            "over_baseline": (
                f'IF({revenue}="","",IF(OR(({base_of})="",N({base_of})=0),"",'
                f"{revenue}/({base_of})-1))",
                PERCENT,
            ),
        }
        if not with_baseline:
            figures["over_baseline"] = ('""', PERCENT)
        for key, (native, fmt) in figures.items():
            cells.append(
                _formula(f"review.period[{p}].{key}", at.period_cell(p, key), native, None, fmt)
            )
    return cells


def _exit_cells(at: ReviewLayout) -> list[CellSpec]:
    layout = at.layout
    cells = [_label(cell(at.exit_heading_row, 0), "heading.exit")]
    for key, _en, _zh in EXIT_ROWS:
        cells.append(
            _label(cell(at.exit_heading_row + 1 + _keyed(EXIT_ROWS, key), 0), f"exit.{key}")
        )
    threshold, consecutive = layout.quote("exit_threshold"), layout.quote("exit_consecutive")
    clause = f"AND(ISNUMBER({threshold}),ISNUMBER({consecutive}))"

    def when(expr: str) -> str:
        return f'IF({clause},{expr},"")'

    latest = f"MATCH({at.header('settled')},{at.settled_range},0)"
    misses = _settlement_range(layout, "miss")
    figures = {
        "threshold": (when(_any(at, threshold)), None, PERCENT),
        "consecutive": (when(_any(at, consecutive)), None, COUNT),
        "misses": (when(_any(at, f"SUM({misses})")), None, COUNT),
        "longest": (
            when(_any(at, f"MAX({_settlement_range(layout, 'streak')})")),
            when(_any(at, f"KPIXL_STREAK({misses})")),
            COUNT,
        ),
        "exit_now": (
            when(_any(at, f"INDEX({_settlement_range(layout, 'exit')},{latest})")),
            None,
            CHECK,
        ),
    }
    for key, (native, udf, fmt) in figures.items():
        cells.append(_formula(f"review.exit.{key}", at.exit(key), native, udf, fmt))
    return cells


def _adjustment_cells(at: ReviewLayout) -> list[CellSpec]:
    layout = at.layout
    cells = [
        _label(cell(at.adjustments_heading_row, 0), "heading.adjustments"),
        _label(cell(at.adjustments_heading_row + 1, 0), "adjustments.applied"),
    ]
    periods = layout.adjustment_range("period")
    metrics = layout.adjustment_range("metric")
    count = _any(at, f'SUMPRODUCT(({periods}<>"")*1)')
    cells.append(_formula("review.adjustments.count", at.adjustment_count, count, None, COUNT))
    for c, (key, _en, _zh) in enumerate(ADJUSTMENT_FIELDS):
        cells.append(_label(cell(at.adjustments_header_row, c), f"adjustments.{key}"))
    last = layout.n
    for m, metric in enumerate(layout.metrics):
        ref = _rel(at.adjustment_cell(m, "metric"))
        cells.append(_marker(ref, f"review.adjustments.metric[{m}]", f"actuals.header.{metric}"))
        header = layout.actual_header(metric)
        per_metric = _any(at, f'SUMPRODUCT(({periods}<>"")*({metrics}={header}))')
        col = column(layout.actual_col(metric))
        originals = f"{ACTUALS}!${col}$2:${col}${last + 1}"
        net = _any(at, f"SUM({_settlement_range(layout, f'x:{metric}')})-SUM({originals})")
        key = f"review.adjustments[{m}]"
        cells.append(
            _formula(f"{key}.count", at.adjustment_cell(m, "count"), per_metric, None, COUNT)
        )
        cells.append(_formula(f"{key}.net", at.adjustment_cell(m, "net"), net, None, METRIC))
    return cells


def review_label(key: str, layout: Layout, lang: Lang) -> str:
    """The text of a Review label cell (``label.review.*``)."""
    if key == "title":
        return label(*TITLE, lang)
    group, _, name = key.partition(".")
    if group == "heading":
        return label(*HEADINGS[name], lang)
    if group == "attainment" and name == "target":
        return label(*TARGET, lang)
    if group == "adjustments" and name == "applied":
        return label(*ADJUSTMENT_COUNT, lang)
    tables = {
        "header": HEADER_ROWS,
        "attainment": ATTAINMENT_FIELDS,
        "kpis": KPI_FIELDS,
        "fee": FEE_ROWS,
        "periods": PERIOD_FIELDS,
        "exit": EXIT_ROWS,
        "adjustments": ADJUSTMENT_FIELDS,
    }
    entry = {f[0]: f for f in tables[group]}[name]
    return label(entry[1], entry[2], lang)


def formula_refs(at: ReviewLayout) -> list[str]:
    """The address of every Review formula cell, without making the cells (a test keeps the
    two equal): a cache is built for every workbook, and the cells cost three times as much."""
    layout = at.layout
    refs = [at.header(key) for key, _en, _zh in HEADER_ROWS]
    for p in range(1, layout.n + 1):
        refs += [at.settled(p), at.target(p)]
        refs += [at.attainment(p, k) for k in range(layout.k)]
        refs += [at.chart_point(p, k) for k in range(layout.k)]
        refs += [at.period_cell(p, field) for field, _en, _zh in PERIOD_FIELDS[1:]]
    for k in range(layout.k):
        refs += [at.kpi_cell(k, field) for field, _en, _zh in KPI_FIELDS[1:]]
    refs += [at.fee(key) for key, _en, _zh in FEE_ROWS]
    refs += [at.exit(key) for key, _en, _zh in EXIT_ROWS]
    refs.append(at.adjustment_count)
    for m in range(len(layout.metrics)):
        refs += [at.adjustment_cell(m, "count"), at.adjustment_cell(m, "net")]
    return [_rel(ref) for ref in refs]


def _blank(at: ReviewLayout) -> dict[str, CellValue]:
    """The values of a workbook without a settled period: blanks, the counts, the target."""
    layout = at.layout
    values: dict[str, CellValue] = dict.fromkeys(formula_refs(at), "")
    values[_rel(at.header("settled"))] = 0.0
    values[_rel(at.header("periods"))] = float(layout.n)
    for p in range(1, layout.n + 1):
        values[_rel(at.target(p))] = 1.0
        for k in range(layout.k):
            values[_rel(at.chart_point(p, k))] = NOT_SETTLED
    return values


def review_values(layout: Layout, data: PeriodData | None) -> dict[str, CellValue]:
    """Every Review formula cell's value by address, from the engine's ``review``.

    Args:
        layout: the workbook layout.
        data: the resolved actuals (adjustments applied), or None when nothing is settled.

    Returns:
        Values by Review address; blank figures while no period is settled.
    """
    at = ReviewLayout(layout)
    values = _blank(at)
    if data is None or not data.indices:
        return values
    contract = layout.contract
    figures = review(contract, settled(contract, data))
    _fill(values, at, figures, data.indices)
    return values


def _put(values: dict[str, CellValue], ref: str, value: float | bool | None) -> None:
    values[_rel(ref)] = "" if value is None else float(value)


def _fill(
    values: dict[str, CellValue], at: ReviewLayout, figures: Review, indices: tuple[int, ...]
) -> None:
    layout = at.layout
    count = len(figures.periods)
    _put(values, at.header("settled"), count)
    _put(values, at.header("half"), half_length(count))
    for i, p in enumerate(indices):
        _put(values, at.settled(p), i + 1)
        for k, kpi in enumerate(figures.kpis):
            _put(values, at.attainment(p, k), kpi.attainment[i])
            _put(values, at.chart_point(p, k), kpi.attainment[i])
        row = figures.fee.periods[i]
        for key in ("base", "bonus", "total"):
            _put(values, at.period_cell(p, key), getattr(row, key))
        _put(values, at.period_cell(p, "revenue"), row.revenue)
        _put(values, at.period_cell(p, "fee_share"), row.fee_share_of_revenue)
        _put(values, at.period_cell(p, "growth"), row.revenue_growth)
        _put(values, at.period_cell(p, "over_baseline"), row.revenue_over_baseline)
    for k, kpi in enumerate(figures.kpis):
        _put(values, at.kpi_cell(k, "at_target"), kpi.at_or_above_target)
        _put(values, at.kpi_cell(k, "below"), kpi.below_threshold)
        _put(values, at.kpi_cell(k, "first"), kpi.first_half_attainment)
        _put(values, at.kpi_cell(k, "second"), kpi.second_half_attainment)
    fee = figures.fee
    fee_figures = {
        "base": fee.base,
        "bonus": fee.bonus,
        "total": fee.total,
        "pool": fee.pool,
        "bonus_share": fee.bonus_share_of_pool,
        "revenue": fee.revenue,
        "fee_share": fee.fee_share_of_revenue,
        "growth": fee.revenue_growth,
    }
    for key, value in fee_figures.items():
        _put(values, at.fee(key), value)
    clause = figures.exit
    if clause is not None:
        exit_figures = {
            "threshold": clause.threshold,
            "consecutive": clause.consecutive,
            "misses": clause.misses,
            "longest": clause.longest_streak,
            "exit_now": clause.exit_eligible_now,
        }
        for key, value in exit_figures.items():
            _put(values, at.exit(key), value)
    adjustments = figures.adjustments
    _put(values, at.adjustment_count, adjustments.count)
    by_metric = {entry.metric: entry for entry in adjustments.by_metric}
    for m, metric in enumerate(layout.metrics):
        entry = by_metric.get(metric)
        _put(values, at.adjustment_cell(m, "count"), 0 if entry is None else entry.count)
        _put(values, at.adjustment_cell(m, "net"), 0.0 if entry is None else entry.net_change)


#: Label keys of the table headers, wrapped over narrow number columns.
WRAPPED = (
    "label.review.attainment.",
    "label.review.kpis.",
    "label.review.periods.",
    "label.review.adjustments.metric",
    "label.review.adjustments.count",
    "label.review.adjustments.net",
)


def finish_review(book: Any, sheet: Any, layout: Layout, lang: Lang) -> None:
    """Table header rows high enough for wrapped bilingual labels, and the attainment chart.

    The chart depends on the shape only (no values): ``kpixl batch`` reuses it per shape.
    """
    at = ReviewLayout(layout)
    # Lines of wrapped bilingual header: two over the attainment table, three over the
    # adjustments, four over the narrow figure columns of the per-KPI and per-period tables.
    heights = {
        at.attainment_header_row: 30,
        at.kpi_header_row: 58,
        at.periods_header_row: 58,
        at.adjustments_header_row: 45,
    }
    for row, height in heights.items():
        sheet.set_row(row, height)
    sheet.set_row(0, 20)
    last = at.chart_first_col + layout.k - 1
    sheet.set_column(at.chart_first_col - 1, last, None, None, {"hidden": True})
    _chart(book, sheet, at, lang)


def _chart(book: Any, sheet: Any, at: ReviewLayout, lang: Lang) -> None:
    """A line chart of each KPI's attainment per period, with a dashed target line at 100 %."""
    layout = at.layout
    chart = book.add_chart({"type": "line"})
    first, last = at.attainment_row(1), at.attainment_row(layout.n)
    categories = [REVIEW, first, 0, last, 0]
    for k, kpi in enumerate(layout.contract.kpis):
        col = at.chart_first_col + k
        chart.add_series(
            {
                "name": kpi.code,
                "categories": categories,
                "values": [REVIEW, first, col, last, col],
                "marker": {"type": "circle", "size": 5},
            }
        )
    chart.add_series(
        {
            "name": label(*TARGET, lang),
            "categories": categories,
            "values": [REVIEW, first, at.target_col, last, at.target_col],
            "line": {"dash_type": "dash", "color": "#C00000", "width": 1.5},
        }
    )
    chart.set_title({"name": label(*HEADINGS["attainment"], lang), "name_font": {"size": 10}})
    chart.set_y_axis({"num_format": "0%", "min": 0})
    chart.set_legend({"position": "bottom"})
    # #N/A points are left out and the line carries on over them (LibreOffice draws them as
    # 0 % unless the chart says so; Excel carries a line chart over #N/A anyway).
    chart.show_blanks_as("span")
    chart.show_hidden_data()  # the series sit in hidden columns
    chart.set_size({"width": 720, "height": CHART_ROWS * 20 - 8})
    sheet.insert_chart(at.chart_row, 0, chart, {"x_offset": 2, "y_offset": 4})
