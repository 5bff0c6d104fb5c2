"""The Statement sheet (结算单): one period's settlement, laid out to print on A4 portrait.

The period is the input cell ``KPIXL_STATEMENT_PERIOD`` (a dropdown of the contract's period
labels); every figure is looked up from the Settlement sheet with INDEX/MATCH (the same text
in both formula modes: the Settlement sheet holds the mode's own formulas), except the
guardrail factors and roundings, which call the KPIXL_* UDFs in udf mode. Cached values come
from the Settlement sheet's cached values, so the two sheets never disagree.

Columns A–G print (KPI, actual, target, attainment, factor, payout, data source); column H,
hidden and outside the print area, finds the rows of the period's adjustments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kpixl.engine.money import guardrail_holds, guardrail_multiplier
from kpixl.engine.rounding import excel_round
from kpixl.workbook import cellformulas as cf
from kpixl.workbook.layout import (
    ACTUALS,
    SETTLEMENT,
    STATEMENT,
    CellSpec,
    Lang,
    Layout,
    Mode,
    SheetSpec,
    cell,
    column,
    label,
)

PERIOD_NAME = "KPIXL_STATEMENT_PERIOD"
TOTAL_NAME = "KPIXL_STATEMENT_TOTAL"
#: Position an adjustment row's finder gives when the period has no such adjustment.
NO_ROW = 1000000
PERCENT = "0.00%"
RATIO = "0.0000"
METRIC = "#,##0.####"
#: Printed columns: A (names) to G (data source); H holds the adjustment row finders.
LAST_PRINTED_COL = 6
FINDER_COL = 7
WIDTHS = ((0, 30.0), *((c, 13.0) for c in range(1, 6)), (6, 30.0), (7, 10.0))
#: Header block: key, English, Chinese (values in column B).
HEADER_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("id", "Contract ID", "合同编号"),
    ("client", "Client", "客户"),
    ("provider", "Provider", "服务商"),
    ("currency", "Currency", "币种"),
    ("settlement", "Settlement", "结算方式"),
    ("period", "Period", "结算期"),
    ("index", "Period number", "期次"),
    ("status", "Status", "状态"),
)
KPI_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("name", "KPI", "绩效指标"),
    ("actual", "Actual", "实际"),
    ("target", "Target", "目标"),
    ("attainment", "Attainment", "达成率"),
    ("factor", "Factor", "兑付系数"),
    ("payout", "Payout", "奖金"),
    ("source", "Data source", "数据来源"),
)
GUARDRAIL_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("name", "Guardrail", "风控指标"),
    ("op", "Rule", "条件"),
    ("bound", "Bound", "界限"),
    ("value", "Value", "实际值"),
    ("holds", "Holds", "是否达标"),
    ("effect", "Effect", "效果"),
    ("factor", "Factor applied", "适用系数"),
)
ADJUSTMENT_COLUMNS: tuple[tuple[str, str, str, int], ...] = (
    ("metric", "Metric", "数据列", 0),
    ("original", "Original value", "原值", 1),
    ("value", "New value", "调整后", 2),
    ("approved_by", "Approved by", "审批人", 3),
    ("reason", "Reason", "原因", 6),
)
LABELS: dict[str, tuple[str, str]] = {
    "title": ("Statement", "结算单"),
    "kpis": ("KPI results", "绩效指标结果"),
    "guardrails": ("Guardrails", "风控指标"),
    "fee": ("Fee for the period", "本期费用"),
    "adjustments": ("Adjustments of this period", "本期数据调整"),
    "evidence": ("Evidence of actuals", "数据凭证"),
    "evidence_note": (
        "Sources recorded by kpixl ingest (none if blank below)",
        "kpixl ingest 记录的数据来源（下方空白即无）",
    ),
    "pick": (
        "Pick the period in the yellow cell; every figure follows",
        "在黄色单元格选择结算期，所有数字随之更新",
    ),
}
#: Fee lines: key, English, Chinese; which apply depends on the contract (see fee_keys).
FEE_LINES: dict[str, tuple[str, str]] = {
    "m": ("Guardrail multiplier", "风控系数"),
    "uncapped": ("Bonus before caps", "封顶前奖金"),
    "to_date": ("To-date bonus after caps", "累计应付奖金（封顶后）"),
    "paid_before": ("Bonus paid before", "此前已付奖金"),
    "period_cap": ("Period cap", "每期封顶"),
    "contract_cap": ("Contract cap", "合同封顶"),
    "capped": ("Reduced by caps", "封顶扣减"),
    "bonus": ("KPI bonus", "绩效奖金"),
    "person_days": ("Person-days delivered", "实际投入人天"),
    "required_days": ("Person-days required", "最低投入人天"),
    "base": ("Base fee", "基础服务费"),
    "total": ("Total due", "本期应付合计"),
    "cum_bonus": ("Cumulative bonus paid to date", "累计已付奖金"),
    "cum_total": ("Cumulative fees paid to date", "累计已付服务费"),
}
#: Status texts (both languages whatever the label language: a formula result).
SETTLED = "settled / 已结算"
NOT_SETTLED = "not settled yet / 尚未结算"
UNKNOWN = "not a period of the contract / 非合同结算期"
HELD, BREACHED = "✓ yes / 是", "✗ no / 否"
NO_ADJUSTMENTS = "none / 无"  # the first adjustment row of a period without adjustments


@dataclass(frozen=True)
class StatementLayout:
    """Rows of the Statement sheet of one contract (0-based)."""

    layout: Layout

    header_row = 2

    def field_row(self, key: str) -> int:
        """Row of a header field (value in column B)."""
        return self.header_row + [f[0] for f in HEADER_FIELDS].index(key)

    @property
    def kpi_header_row(self) -> int:
        """Header row of the KPI table (its section label is the row above)."""
        return self.header_row + len(HEADER_FIELDS) + 2

    def kpi_row(self, k: int) -> int:
        """Row of KPI k."""
        return self.kpi_header_row + 1 + k

    @property
    def guardrail_header_row(self) -> int:
        """Header row of the guardrail table (present only with guardrails)."""
        return self.kpi_row(self.layout.k) + 2

    def guardrail_row(self, j: int) -> int:
        """Row of guardrail j."""
        return self.guardrail_header_row + 1 + j

    @property
    def fee_keys(self) -> tuple[str, ...]:
        """The fee lines of this contract, in print order."""
        contract = self.layout.contract
        keys = ["m", "uncapped"]
        if self.layout.cumulative:
            keys += ["to_date", "paid_before"]
        keys += ["period_cap", "contract_cap", "capped", "bonus"]
        if contract.min_input is not None:
            keys += ["person_days", "required_days"]
        keys += ["base", "total", "cum_bonus", "cum_total"]
        return tuple(keys)

    @property
    def fee_label_row(self) -> int:
        """Section label row of the fee lines."""
        after = self.guardrail_row(self.layout.g) if self.layout.g else self.kpi_row(self.layout.k)
        return after + 1

    def fee_row(self, key: str) -> int:
        """Row of a fee line (amount in column F)."""
        return self.fee_label_row + 1 + self.fee_keys.index(key)

    @property
    def adjustment_header_row(self) -> int:
        """Header row of the period's adjustments."""
        return self.fee_row(self.fee_keys[-1]) + 3

    @property
    def adjustment_count(self) -> int:
        """Adjustment rows shown: one per metric at most (a metric is adjusted once a period)."""
        return min(len(self.layout.metrics), self.layout.adjustment_rows)

    def adjustment_row(self, i: int) -> int:
        """Row of the period's i-th adjustment (0-based)."""
        return self.adjustment_header_row + 1 + i

    @property
    def evidence_row(self) -> int:
        """Section label row of the evidence of actuals (its sources follow the note row)."""
        return self.adjustment_row(self.adjustment_count) + 1

    @property
    def last_row(self) -> int:
        """Last printed row."""
        return self.evidence_row + 1

    def ref(self, key: str) -> str:
        """Absolute address of a header field's value, e.g. ``$B$8``."""
        return cell(self.field_row(key), 1, True)

    @property
    def period_ref(self) -> str:
        """The period input cell, e.g. ``$B$8``."""
        return self.ref("period")

    @property
    def index_ref(self) -> str:
        """The period number cell (blank when the period is not the contract's)."""
        return self.ref("index")

    @property
    def print_area(self) -> str:
        """The printed range."""
        return f"$A$1:{cell(self.last_row, LAST_PRINTED_COL, True)}"


def statement_sheet(layout: Layout) -> SheetSpec:
    """The Statement sheet: no frozen panes (a document), columns wide enough for A4."""
    return SheetSpec(STATEMENT, widths=WIDTHS)


def statement_names(layout: Layout) -> dict[str, str]:
    """The defined names of the Statement: the period input and the total due."""
    st = StatementLayout(layout)
    return {
        PERIOD_NAME: f"{STATEMENT}!{st.period_ref}",
        TOTAL_NAME: f"{STATEMENT}!{cell(st.fee_row('total'), 5, True)}",
    }


def _settlement_column(layout: Layout, key: str) -> str:
    col = column(layout.scol(key))
    return f"{SETTLEMENT}!${col}$2:${col}${layout.n + 1}"


def _lookup(layout: Layout, key: str) -> str:
    """Period p's Settlement figure (blank for an unknown period or an unsettled one)."""
    p = StatementLayout(layout).index_ref
    return f'IF({p}="","",INDEX({_settlement_column(layout, key)},{p}))'


def _formula(
    sheet_ref: str, key: str, native: str, udf: str | None = None, fmt: Any = None
) -> CellSpec:
    return CellSpec(
        STATEMENT,
        sheet_ref,
        key,
        "formula",
        native=native,
        udf=udf or native,
        number_format=fmt,
        role="formula",
        field=key,
    )


def _label(ref: str, key: str) -> CellSpec:
    return CellSpec(STATEMENT, ref, f"label.statement.{key}", "fixed", "text", role="label")


def statement_cells(layout: Layout) -> list[CellSpec]:
    """Every cell of the Statement sheet: labels, the period input and the formulas."""
    st = StatementLayout(layout)
    cells = [_label("A1", "title"), _label("A2", "pick")]
    cells += _header_cells(layout, st)
    cells += _kpi_cells(layout, st)
    if layout.g:
        cells += _guardrail_cells(layout, st)
    cells += _fee_cells(layout, st)
    cells += _adjustment_cells(layout, st)
    cells.append(_label(cell(st.evidence_row, 0), "evidence"))
    cells.append(_label(cell(st.evidence_row + 1, 0), "evidence_note"))
    return cells


def _header_cells(layout: Layout, st: StatementLayout) -> list[CellSpec]:
    cells = []
    for key, _en, _zh in HEADER_FIELDS:
        row = st.field_row(key)
        cells.append(_label(cell(row, 0), f"field.{key}"))
        ref = cell(row, 1)
        if key == "period":
            labels = f"{SETTLEMENT}!$A$2:$A${layout.n + 1}"
            cells.append(
                CellSpec(
                    STATEMENT,
                    ref,
                    "statement.period",
                    "input",
                    "text",
                    number_format="@",  # text: Excel must not turn 2027-03 into a date
                    validation=("=" + labels,),
                    role="what_if",
                    field="statement.period",
                )
            )
        elif key == "index":
            labels = f"{SETTLEMENT}!$A$2:$A${layout.n + 1}"
            cells.append(
                _formula(ref, "statement.index", f'IFERROR(MATCH({st.period_ref},{labels},0),"")')
            )
        elif key == "status":
            entered = _settlement_column(layout, "n")
            p = st.index_ref
            status = (
                f'IF({p}="","{UNKNOWN}",IF(INDEX({entered},{p})=0,"{NOT_SETTLED}","{SETTLED}"))'
            )
            cells.append(_formula(ref, "statement.status", status))
        else:
            text = f"CLEAN({layout.quote(key)})"  # a document: no control characters
            cells.append(_formula(ref, f"statement.{key}", text))
    return cells


def kpi_format(layout: Layout, k: int, key: str) -> str | None:
    """Number format of a KPI table figure."""
    money = _money(layout)
    unit = layout.contract.kpis[k].unit
    if key in ("actual", "target"):
        return money if unit == "currency" else (PERCENT if unit == "percent" else METRIC)
    return {"attainment": PERCENT, "factor": RATIO, "payout": money}.get(key)


def _money(layout: Layout) -> str:
    d = layout.contract.decimals
    return "#,##0" if d == 0 else "#,##0." + "0" * d


def _kpi_cells(layout: Layout, st: StatementLayout) -> list[CellSpec]:
    head = st.kpi_header_row
    cells = [_label(cell(head - 1, 0), "kpis")]
    for c, (key, _en, _zh) in enumerate(KPI_COLUMNS):
        cells.append(_label(cell(head, c), f"kpi.{key}"))
    for k, kpi in enumerate(layout.contract.kpis):
        row = st.kpi_row(k)
        name, code, zh = layout.kpi(k, "name"), layout.kpi(k, "code"), layout.kpi(k, "name_zh")
        text = f'CLEAN(IF({name}="",{code},{name})&IF({zh}="",""," / "&{zh}))'
        cells.append(_formula(cell(row, 0), f"statement.kpi[{k}].name", text))
        for c, (key, _en, _zh) in enumerate(KPI_COLUMNS[1:6], start=1):
            cells.append(
                _formula(
                    cell(row, c),
                    f"statement.kpi[{k}].{key}",
                    _lookup(layout, f"{key}:{kpi.code}"),
                    fmt=kpi_format(layout, k, key),
                )
            )
        source = layout.kpi(k, "source")
        text = f'IF({source}="","",CLEAN({source}))'
        cells.append(_formula(cell(row, 6), f"statement.kpi[{k}].source", text))
    return cells


def _guardrail_cells(layout: Layout, st: StatementLayout) -> list[CellSpec]:
    head = st.guardrail_header_row
    cells = [_label(cell(head - 1, 0), "guardrails")]
    for c, (key, _en, _zh) in enumerate(GUARDRAIL_COLUMNS):
        cells.append(_label(cell(head, c), f"guardrail.{key}"))
    for j in range(layout.g):
        row = st.guardrail_row(j)
        g = layout.guardrail
        metric, num, den = g(j, "metric"), g(j, "ratio_num"), g(j, "ratio_den")
        where = f"statement.guardrail[{j}]"
        value = cell(row, 3)
        holds = cf.holds(value, g(j, "op"), g(j, "bound"))
        verdict = f'IF({holds},"{HELD}","{BREACHED}")'
        factor = {
            mode: f'IF({value}="","",{cf.guardrail_factor_of(layout, j, value, mode)})'
            for mode in ("native", "udf")
        }
        cells += [
            _formula(cell(row, 0), f"{where}.name", f'IF({metric}="",{num}&"/"&{den},{metric})'),
            _formula(cell(row, 1), f"{where}.op", f'{g(j, "op")}&""'),
            _formula(cell(row, 2), f"{where}.bound", g(j, "bound"), fmt=METRIC),
            _formula(value, f"{where}.value", _lookup(layout, f"g:{j}"), fmt=METRIC),
            _formula(cell(row, 4), f"{where}.holds", f'IF({value}="","",{verdict})'),
            _formula(cell(row, 5), f"{where}.effect", f'{g(j, "effect")}&""'),
            _formula(cell(row, 6), f"{where}.factor", factor["native"], factor["udf"], RATIO),
        ]
    return cells


def _fee_cells(layout: Layout, st: StatementLayout) -> list[CellSpec]:
    cells = [_label(cell(st.fee_label_row, 0), "fee")]
    money = _money(layout)
    p = st.index_ref
    for key in st.fee_keys:
        row = st.fee_row(key)
        cells.append(_label(cell(row, 0), f"fee.{key}"))
        ref, where = cell(row, 5), f"statement.{key}"
        if key in ("period_cap", "contract_cap", "required_days"):
            source = layout.quote("person_days" if key == "required_days" else key)
            fmt = METRIC if key == "required_days" else money
            cells.append(_formula(ref, where, f'IF(ISNUMBER({source}),{source},"")', fmt=fmt))
        elif key == "person_days":
            cells.append(_formula(ref, where, _lookup(layout, "x:person_days"), fmt=METRIC))
        elif key == "capped":
            after = "to_date" if layout.cumulative else "bonus"
            u, a = cell(st.fee_row("uncapped"), 5), cell(st.fee_row(after), 5)
            native, udf = (
                f'IF({u}="","",{_round(layout, f"{u}-{a}", mode)})' for mode in ("native", "udf")
            )
            cells.append(_formula(ref, where, native, udf, money))
        elif key == "cum_total":
            ps, totals = _settlement_column(layout, "p"), _settlement_column(layout, "total")
            through = f'SUMIF({ps},"<="&{p},{totals})'
            native, udf = (
                f'IF({p}="","",{_round(layout, through, mode)})' for mode in ("native", "udf")
            )
            cells.append(_formula(ref, where, native, udf, money))
        else:
            fmt = RATIO if key == "m" else money
            cells.append(_formula(ref, where, _lookup(layout, key), fmt=fmt))
    return cells


def _round(layout: Layout, expr: str, mode: Mode) -> str:
    name = "KPIXL_ROUND" if mode == "udf" else "ROUND"
    return f"{name}({expr},{layout.quote('decimals')})"


def _adjustment_cells(layout: Layout, st: StatementLayout) -> list[CellSpec]:
    head = st.adjustment_header_row
    cells = [_label(cell(head - 1, 0), "adjustments")]
    for key, _en, _zh, c in ADJUSTMENT_COLUMNS:
        cells.append(_label(cell(head, c), f"adjustment.{key}"))
    periods = layout.adjustment_range("period")
    first_row = layout.adjustment_header_row + 1  # 0-based row of the table's first entry
    actuals = f"{ACTUALS}!$B$2:{cell(layout.n, len(layout.metrics), True)}"
    metrics = f"{ACTUALS}!$B$1:{cell(0, len(layout.metrics), True)}"
    for i in range(st.adjustment_count):
        row = st.adjustment_row(i)
        finder = cell(row, FINDER_COL, True)
        # The row (1-based, within the table) of the period's i-th adjustment: SMALL over the
        # positions of the matching rows, NO_ROW for the others (SUMPRODUCT: no array entry).
        position = f"(ROW({periods})-{first_row})"
        small = (
            f"SUMPRODUCT(SMALL(({periods}={st.period_ref})*{position}"
            f"+({periods}<>{st.period_ref})*{NO_ROW},{i + 1}))"
        )
        finder_formula = f"IF(ISNUMBER({st.index_ref}),{small},{NO_ROW})"
        where = f"statement.adjustment[{i}]"
        cells.append(_formula(cell(row, FINDER_COL), f"{where}.row", finder_formula))

        def found(expr: str, first: bool = False) -> str:
            nothing = f'"{NO_ADJUSTMENTS}"' if first else '""'
            return f"IF({finder}>={NO_ROW},{nothing},{expr})"  # noqa: B023 - used at once

        metric_ref = cell(row, 0, True)
        for key, _en, _zh, c in ADJUSTMENT_COLUMNS:
            ref = cell(row, c)
            if key == "original":
                value = f"INDEX({actuals},{st.index_ref},MATCH({metric_ref},{metrics},0))"
                expr = found(f'IF(ISNUMBER({value}),{value},"")')
                cells.append(_formula(ref, f"{where}.{key}", expr, fmt=METRIC))
            elif key == "value":
                expr = found(f"INDEX({layout.adjustment_range(key)},{finder})")
                cells.append(_formula(ref, f"{where}.{key}", expr, fmt=METRIC))
            else:
                text = f'CLEAN(INDEX({layout.adjustment_range(key)},{finder})&"")'
                expr = found(text, first=i == 0 and key == "metric")
                cells.append(_formula(ref, f"{where}.{key}", expr))
    return cells


def statement_label(key: str, layout: Layout, lang: Lang) -> str | None:
    """The text of a Statement label cell (key without ``label.statement.``)."""
    kind, _, rest = key.partition(".")
    cumulative = layout.cumulative
    if key in LABELS:
        return label(*LABELS[key], lang)
    tables: dict[str, tuple[tuple[Any, ...], ...]] = {
        "field": HEADER_FIELDS,
        "kpi": KPI_COLUMNS,
        "guardrail": GUARDRAIL_COLUMNS,
        "adjustment": ADJUSTMENT_COLUMNS,
    }
    if kind in tables:
        en, zh = {f[0]: (f[1], f[2]) for f in tables[kind]}[rest]
        if kind == "kpi" and cumulative and rest in ("actual", "target", "attainment"):
            en, zh = f"{en} to date", f"累计{zh}"
        return label(en, zh, lang)
    if kind == "fee":
        return label(*FEE_LINES[rest], lang)
    return None


def clean(text: str) -> str:
    """Excel's CLEAN: the text without the control characters 0–31."""
    return "".join(char for char in text if ord(char) >= 32)


def default_period(layout: Layout, entered: set[int]) -> str:
    """The period a new Statement shows: the last one with actuals, else the first."""
    labels = layout.contract.period_labels
    return labels[max(entered) - 1] if entered else labels[0]


def statement_values(
    layout: Layout,
    settlement: dict[str, Any],
    chosen: str,
    originals: dict[tuple[int, str], float],
    adjustments: tuple[tuple[str, str, float, str, str], ...],
) -> dict[str, Any]:
    """Every Statement formula cell's value, as the Settlement sheet's cached values give it.

    Args:
        layout: the workbook layout.
        settlement: the Settlement sheet's cached values by address.
        chosen: what the period input cell holds ("" when blank).
        originals: the Actuals sheet's values by (period index, metric), before adjustments.
        adjustments: the adjustments table's rows (period label, metric, value, reason, approver).

    Returns:
        Values by Statement address; "" where the sheet shows nothing.
    """
    contract, st = layout.contract, StatementLayout(layout)
    labels = contract.period_labels
    p = labels.index(chosen) + 1 if chosen in labels else None
    out: dict[str, Any] = {}

    def at(key: str) -> Any:
        return "" if p is None else settlement.get(layout.s(key, p), "")

    header: dict[str, Any] = {
        "id": contract.id,
        "client": clean(contract.client),
        "provider": clean(contract.provider),
        "currency": contract.currency,
        "settlement": contract.settlement,
        "index": "" if p is None else float(p),
        "status": UNKNOWN if p is None else (NOT_SETTLED if at("n") == 0 else SETTLED),
    }
    for key, value in header.items():
        out[cell(st.field_row(key), 1)] = value
    for k, kpi in enumerate(contract.kpis):
        row = st.kpi_row(k)
        name = (kpi.name or kpi.code) + (f" / {kpi.name_zh}" if kpi.name_zh else "")
        out[cell(row, 0)] = clean(name)
        for c, key in enumerate(("actual", "target", "attainment", "factor", "payout"), start=1):
            out[cell(row, c)] = at(f"{key}:{kpi.code}")
        out[cell(row, 6)] = clean(kpi.source or "")
    for j, guardrail in enumerate(contract.guardrails):
        row = st.guardrail_row(j)
        value = at(f"g:{j}")
        held = value != "" and bool(guardrail_holds(float(value), guardrail.op, guardrail.bound))
        factor: Any = ""
        if value != "":
            factor = float(
                guardrail_multiplier(
                    float(value),
                    guardrail.op,
                    guardrail.bound,
                    guardrail.effect,
                    guardrail.multiplier or 0.0,
                )
            )
        row_values = (
            "/".join(guardrail.columns),
            guardrail.op,
            guardrail.bound,
            value,
            "" if value == "" else (HELD if held else BREACHED),
            guardrail.effect,
            factor,
        )
        for c, v in enumerate(row_values):
            out[cell(row, c)] = v
    out.update(_fee_values(layout, st, settlement, p, at))
    out.update(_adjustment_values(layout, st, p, chosen, originals, adjustments))
    return out


def _fee_values(
    layout: Layout, st: StatementLayout, settlement: dict[str, Any], p: int | None, at: Any
) -> dict[str, Any]:
    contract = layout.contract
    d = contract.decimals
    fee = contract.fee
    out: dict[str, Any] = {}
    for key in st.fee_keys:
        value: Any
        if key in ("period_cap", "contract_cap"):
            cap = getattr(fee, key)
            value = "" if cap is None else cap
        elif key == "required_days":
            value = contract.min_input.person_days if contract.min_input is not None else ""
        elif key == "person_days":
            value = at("x:person_days")
        elif key == "capped":
            uncapped, after = at("uncapped"), at("to_date" if layout.cumulative else "bonus")
            value = "" if uncapped == "" else excel_round(uncapped - after, d)
        elif key == "cum_total":
            totals = [settlement.get(layout.s("total", q), "") for q in range(1, (p or 0) + 1)]
            amounts = [t for t in totals if isinstance(t, int | float) and not isinstance(t, bool)]
            value = "" if p is None else excel_round(_excel_sum(amounts), d)
        else:
            value = at(key)
        out[cell(st.fee_row(key), 5)] = value
    return out


def _excel_sum(amounts: list[float]) -> float:
    """SUM as a spreadsheet adds: left to right in doubles."""
    total = 0.0
    for amount in amounts:
        total += amount
    return total


def _adjustment_values(
    layout: Layout,
    st: StatementLayout,
    p: int | None,
    chosen: str,
    originals: dict[tuple[int, str], float],
    adjustments: tuple[tuple[str, str, float, str, str], ...],
) -> dict[str, Any]:
    rows = [] if p is None else [i for i, adj in enumerate(adjustments) if adj[0] == chosen]
    out: dict[str, Any] = {}
    for i in range(st.adjustment_count):
        row = st.adjustment_row(i)
        found = rows[i] if i < len(rows) else None
        out[cell(row, FINDER_COL)] = float(NO_ROW if found is None else found + 1)
        shown: dict[str, Any] = {key: "" for key, *_rest in ADJUSTMENT_COLUMNS}
        if found is not None and p is not None:
            _period, metric, value, reason, approver = adjustments[found]
            shown.update(
                metric=clean(metric),
                original=originals.get((p, metric), ""),
                value=value,
                reason=clean(reason or ""),
                approved_by=clean(approver or ""),
            )
        elif i == 0:
            shown["metric"] = NO_ADJUSTMENTS
        for key, _en, _zh, c in ADJUSTMENT_COLUMNS:
            out[cell(row, c)] = shown[key]
    return out


#: Statement formula cells (by key ending) and labels (by key start) whose text wraps.


def wraps(key: str) -> bool:
    """Whether a Statement formula cell wraps its text (top-aligned, as its row's neighbours)."""
    return key.startswith(("statement.kpi[", "statement.adjustment["))


def stands_out(key: str) -> bool:
    """Whether a Statement formula cell is bold: the total due."""
    return key == "statement.total"


WRAPPED_LABELS = (
    "label.statement.kpi.",
    "label.statement.guardrail.",
    "label.statement.adjustment.",
)


def print_statement(
    sheet: Any,
    layout: Layout,
    adjustments: tuple[tuple[str, str, float, str, str], ...] = (),
    evidence_rows: int = 0,
) -> None:
    """Print setup of the Statement: A4 portrait, one page wide, header and footer.

    Args:
        sheet: the XlsxWriter worksheet.
        layout: the workbook layout.
        adjustments: the adjustments table's rows, to size the rows that show them.
        evidence_rows: rows of evidence written below the evidence note (0: none).
    """
    st = StatementLayout(layout)
    sheet.set_portrait()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    last = cell(st.last_row + evidence_rows, LAST_PRINTED_COL, True)
    sheet.print_area(f"$A$1:{last}")
    sheet.repeat_rows(0)
    sheet.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
    contract_id = layout.contract.id.replace("&", "&&")
    sheet.set_header(f"&L{contract_id}&RStatement / 结算单")
    sheet.set_footer("&LKPI-linked service fee / KPI绑定服务费&RPage &P of &N")
    sheet.set_column(FINDER_COL, FINDER_COL, None, None, {"hidden": True})
    # Wrapped text needs its row's height: LibreOffice and Excel keep the height they are given.
    widths = dict(WIDTHS)
    tables: list[tuple[int, str, tuple[tuple[Any, ...], ...]]] = [
        (st.kpi_header_row, "kpi", KPI_COLUMNS),
        (st.adjustment_header_row, "adjustment", ADJUSTMENT_COLUMNS),
    ]
    if layout.g:
        tables.append((st.guardrail_header_row, "guardrail", GUARDRAIL_COLUMNS))
    for row, kind, columns in tables:
        lines = 1
        for c, entry in enumerate(columns):
            col = entry[3] if len(entry) > 3 else c
            text = statement_label(f"{kind}.{entry[0]}", layout, "both") or ""
            lines = max(lines, _lines(text, widths[col]))
        sheet.set_row(row, 15 * lines)
    for k, kpi in enumerate(layout.contract.kpis):
        name = (kpi.name or kpi.code) + (f" / {kpi.name_zh}" if kpi.name_zh else "")
        lines = max(_lines(name, widths[0]), _lines(kpi.source or "", widths[6]))
        if lines > 1:
            sheet.set_row(st.kpi_row(k), 15 * lines)
    # As many adjustment rows as the busiest period uses, tall enough for the longest reason.
    per_period: dict[str, int] = {}
    lines = 1
    for period, _metric, _value, reason, approver in adjustments:
        per_period[period] = per_period.get(period, 0) + 1
        lines = max(lines, _lines(reason or "", widths[6]), _lines(approver or "", widths[3]))
    for i in range(min(max(per_period.values(), default=0), st.adjustment_count)):
        sheet.set_row(st.adjustment_row(i), 15 * lines)


def _lines(text: str, width: float) -> int:
    """Lines a text takes wrapped in a column ``width`` characters wide (CJK counts twice)."""
    needed = sum(2 if ord(char) > 0x2E7F else 1 for char in text)
    per_line = max(1, int(width * 1.2))  # LibreOffice and Excel fit ~1.2 characters per unit
    return max(1, -(-needed // per_line))
