"""The value every formula cell of the template holds, as the engine computes it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from kpixl.actuals import (
    Actuals,
    Adjustments,
    PeriodData,
    parse_number,
    period_index,
)
from kpixl.engine.curves import factor
from kpixl.engine.money import contract_total, payout
from kpixl.engine.pricing import Price, price_quote, quote_for
from kpixl.engine.scenarios import ScenarioRow, scenarios
from kpixl.model import Contract
from kpixl.ratecard import DEFAULT_LEVELS, QuoteInputs, RateCard, RateCardError
from kpixl.workbook.layout import (
    PACING,
    PRICING,
    PRICING_RESULTS,
    QUOTE,
    QUOTE_TOTALS,
    REVIEW,
    SCENARIO_COLUMNS,
    SCENARIO_KPI_COLUMNS,
    SCENARIO_ROWS,
    SETTLEMENT,
    STATEMENT,
    Layout,
    cell,
    priced,
    sample_rate_card,
)
from kpixl.workbook.pacing_sheet import PacingInputs, blank_inputs, pacing_values
from kpixl.workbook.review_sheet import review_values
from kpixl.workbook.settled import settled
from kpixl.workbook.statement import default_period, statement_values

CellValue = float | bool | str


@dataclass(frozen=True)
class ActualsGrid:
    """What the Actuals sheet holds: original values by (period, metric) and adjustment rows."""

    values: dict[tuple[int, str], float]
    adjustments: tuple[tuple[str, str, float, str, str], ...]


@dataclass(frozen=True)
class ScenarioInputs:
    """The scenario table's inputs on Quote: one level per row (None: blank) and the CPS rate.

    ``pricing`` is the rate card and quote inputs the workbook holds when it prices the quote
    (None without a quote section, or when the cells cannot be read as a rate card and a quote).
    """

    levels: tuple[float | None, ...]
    cps_rate: float | None
    pricing: tuple[RateCard, QuoteInputs] | None = None
    #: What the Pacing sheet holds (None: nothing typed yet).
    pacing: PacingInputs | None = None
    #: What the Statement's period cell holds ("" blank); None: the default a build writes.
    statement_period: str | None = None


def default_scenario_inputs(contract: Contract, card: RateCard | None = None) -> ScenarioInputs:
    """The inputs a new workbook starts with: the quote's levels and CPS rate, else defaults.

    The table has SCENARIO_ROWS rows: more levels than that are cut, fewer leave rows blank.
    The pricing block prices the quote with ``card`` (default: the sample card).
    """
    quote = contract.quote
    levels: tuple[float | None, ...] = tuple(DEFAULT_LEVELS)
    if quote is not None and quote.levels is not None:
        levels = tuple(quote.levels)
    padded = (*levels[:SCENARIO_ROWS], *(None,) * max(0, SCENARIO_ROWS - len(levels)))
    pricing = None
    if priced(contract):
        try:
            pricing = (card or sample_rate_card(), quote_for(contract))
        except RateCardError:  # a quote the card cannot price: its cells cache blanks
            pricing = None
    return ScenarioInputs(padded, None if quote is None else quote.cps_rate, pricing)


def pricing_values(
    layout: Layout, inputs: ScenarioInputs
) -> tuple[dict[str, CellValue], Price | None]:
    """The Quote pricing formula cells from the engine's ``price_quote`` (SPEC §6).

    Args:
        layout: the workbook layout.
        inputs: the inputs the workbook holds.

    Returns:
        Values by Pricing address (blank when the inputs cannot be priced) and the price.
    """
    if not layout.priced:
        return {}, None
    price = None
    if inputs.pricing is not None:
        card, quote = inputs.pricing
        contract = layout.contract
        try:
            price = price_quote(card, quote, contract.period, contract.decimals)
        except RateCardError:
            price = None
    if price is None:
        return {layout.pricing_cell(key): "" for key, _en, _zh in PRICING_RESULTS}, None
    figures: dict[str, CellValue] = {
        "team_cost": price.lines.team_cost,
        "term_discount": price.lines.term_discount,
        "monthly_list": price.lines.monthly_list,
        "list": price.list,
        "base": price.base,
        "pool": price.pool,
        "period_cap": "" if price.period_cap is None else price.period_cap,
    }
    return {layout.pricing_cell(key): value for key, value in figures.items()}, price


def actuals_grid(
    contract: Contract, actuals: Actuals | None, adjustments: Adjustments | None
) -> ActualsGrid:
    """The original (unadjusted) actuals and the adjustments as the workbook stores them.

    Args:
        contract: the contract.
        actuals: actuals as read; None for an empty sheet.
        adjustments: adjustments as read, or None.

    Returns:
        Values keyed by (period index, metric) and adjustment rows with period labels.
    """
    values: dict[tuple[int, str], float] = {}
    needed = contract.required_columns
    for row in actuals.rows if actuals is not None else ():
        index = period_index(contract, row.period)
        for metric in needed:
            raw = row.cells.get(metric)
            if raw is not None and str(raw).strip() != "":
                values[(index, metric)] = parse_number(raw)
    rows = []
    for adj in adjustments.rows if adjustments is not None else ():
        label = contract.period_label(period_index(contract, adj.period))
        rows.append((label, adj.metric, parse_number(adj.value), adj.reason, adj.approved_by))
    return ActualsGrid(values, tuple(rows))


def cached_values(
    layout: Layout,
    grid: ActualsGrid,
    data: PeriodData | None,
    scenario: ScenarioInputs | None = None,
    pacing_refs: Iterable[str] | None = None,
) -> dict[str, dict[str, CellValue]]:
    """Every formula cell's value: ``{sheet: {A1: value}}``.

    Args:
        layout: the workbook layout.
        grid: what the Actuals sheet holds.
        data: the resolved actuals (adjustments applied), or None when nothing is settled.
        scenario: the scenario table's inputs as the workbook holds them; None: the
            contract's defaults (:func:`default_scenario_inputs`).
        pacing_refs: the Pacing sheet's formula addresses, when the caller has its schema.

    Returns:
        Values by sheet and cell; a period without actuals holds "".
    """
    contract = layout.contract
    values: dict[str, dict[str, CellValue]] = {QUOTE: {}, "KPIs": {}, SETTLEMENT: {}}
    for k, kpi in enumerate(contract.kpis):
        for p, target in enumerate(kpi.effective_targets(contract.periods), start=1):
            values["KPIs"][cell(layout.target_row(p), layout.target_col(k, "effective"))] = target
    rows = _settlement_rows(layout, grid, data)
    for p, row in rows.items():
        for key, value in row.items():
            values[SETTLEMENT][layout.s(key, p)] = value
    totals = _totals(rows, contract.decimals)
    for key, value in totals.items():
        values[SETTLEMENT][layout.total(key)] = value  # type: ignore[arg-type]
    for key in QUOTE_TOTALS:
        values[QUOTE][layout.quote_total(key)] = totals[key]
        for p in range(1, layout.n + 1):
            values[QUOTE][layout.quote_period(key, p)] = rows[p][key]
    inputs = default_scenario_inputs(contract) if scenario is None else scenario
    priced_cells, price = pricing_values(layout, inputs)
    if priced_cells:
        values[PRICING] = dict(priced_cells)
    values[QUOTE].update(scenario_values(layout, inputs, None if price is None else price.list))
    chosen = inputs.statement_period
    if chosen is None:
        chosen = default_period(layout, {p for p, _m in grid.values})
    values[STATEMENT] = statement_values(
        layout, values[SETTLEMENT], chosen, grid.values, grid.adjustments
    )
    typed = inputs.pacing or blank_inputs(layout)
    values[PACING] = pacing_values(layout, typed, data, pacing_refs)
    values[REVIEW] = review_values(layout, data)
    return values


def scenario_values(
    layout: Layout, inputs: ScenarioInputs, fixed_fee: float | None = None
) -> dict[str, CellValue]:
    """The scenario table's formula cells, from the engine's ``scenarios()`` (SPEC §6).

    Args:
        layout: the workbook layout.
        inputs: the levels and CPS rate the table holds.
        fixed_fee: the quote's list price when the workbook prices it; None: base + pool.

    Returns:
        Values by Quote address; a row without a level is blank.
    """
    contract = layout.contract
    known = [(i, level) for i, level in enumerate(inputs.levels) if level is not None]
    levels = [level for _, level in known]
    rows = scenarios(contract, levels, cps_rate=inputs.cps_rate, fixed_fee=fixed_fee)
    values: dict[str, CellValue] = {}
    for i in range(SCENARIO_ROWS):
        for key, _en, _zh in SCENARIO_COLUMNS[1:]:
            values[layout.scenario(key, i)] = ""
        for k in range(layout.k):
            for key, _en, _zh in SCENARIO_KPI_COLUMNS:
                values[layout.scenario_kpi(k, key, i)] = ""
    has_cps = inputs.cps_rate is not None
    for (i, _level), row in zip(known, rows, strict=True):
        values.update(_scenario_row(layout, i, row, has_cps))
    # The helper columns: what settle() computed for period 1, by the same engine functions,
    # each KPI's over all levels at once (elementwise the same numbers as one at a time).
    for k, kpi in enumerate(contract.kpis):
        if not rows:
            break
        curve = kpi.curve
        attainments = [row.attainments[k][1] for row in rows]
        factors = np.asarray(
            factor(
                np.asarray(attainments, dtype=np.float64),
                () if curve is None else curve.froms,
                () if curve is None else curve.rates,
                None if curve is None else curve.mode,
                kpi.threshold,
                kpi.factor_cap,
            )
        )
        amounts = np.asarray(payout(contract.fee.pool, kpi.weight, factors, contract.decimals))
        for (i, _level), a, f, amount in zip(
            known, attainments, factors.tolist(), amounts.tolist(), strict=True
        ):
            values[layout.scenario_kpi(k, "attainment", i)] = a
            values[layout.scenario_kpi(k, "factor", i)] = f
            values[layout.scenario_kpi(k, "payout", i)] = amount
    return values


def _scenario_row(layout: Layout, i: int, row: ScenarioRow, has_cps: bool) -> dict[str, CellValue]:
    def blank(value: float | None) -> CellValue:
        return "" if value is None else value

    return {
        layout.scenario("base", i): row.base,
        layout.scenario("bonus", i): row.bonus,
        layout.scenario("total", i): row.total,
        layout.scenario("gmv", i): blank(row.gmv),
        layout.scenario("fee_share", i): blank(row.fee_share),
        layout.scenario("fixed_fee", i): row.fixed_fee,
        # scenarios() falls back to the quote's rate; a blank rate cell means no CPS column.
        layout.scenario("cps_fee", i): blank(row.cps_fee) if has_cps else "",
    }


def _totals(rows: dict[int, dict[str, CellValue]], decimals: int) -> dict[str, float]:
    out = {}
    for key in ("base", "bonus", "total"):
        amounts = [float(r[key]) for r in rows.values() if r[key] != ""]
        out[key] = contract_total(amounts, decimals) if amounts else 0.0
    return out


#: The Settlement columns of each KPI, by the prefix of their keys (``actual:CODE``...).
_KPI_COLUMNS = ("actual", "target", "attainment", "factor", "payout", "baseline", "own")


def _settlement_rows(
    layout: Layout, grid: ActualsGrid, data: PeriodData | None
) -> dict[int, dict[str, CellValue]]:
    contract = layout.contract
    blank: dict[int, dict[str, CellValue]] = {}
    for p in range(1, layout.n + 1):
        count = sum(1 for m in layout.metrics if (p, m) in grid.values)
        row: dict[str, CellValue] = dict.fromkeys(layout.settlement_columns[3:], "")
        row["n"] = float(count)
        blank[p] = row
    if data is None or not data.indices:
        return blank
    result = settled(contract, data)
    # The column keys, made once rather than once per period.
    metric_keys = [(f"x:{m}", data.values[m].tolist()) for m in layout.metrics]
    kpi_keys = [tuple(f"{what}:{kpi.code}" for what in _KPI_COLUMNS) for kpi in contract.kpis]
    for i, (index, period) in enumerate(zip(data.indices, result.periods, strict=True)):
        row = blank[index]
        for key, column in metric_keys:
            row[key] = float(column[i])
        for keys, figures in zip(kpi_keys, period.kpis, strict=True):
            row[keys[0]] = figures.actual
            row[keys[1]] = figures.target
            row[keys[2]] = figures.attainment
            row[keys[3]] = figures.factor
            row[keys[4]] = figures.payout
        # The helper columns, as the engine settled them.
        for keys, baseline, own in zip(
            kpi_keys, period.baselines, period.own_attainments, strict=True
        ):
            if baseline is not None:
                row[keys[5]] = baseline
            if layout.cumulative:
                row[keys[6]] = own
        for j, value in enumerate(period.guardrail_values):
            row[f"g:{j}"] = value
        row["w"] = period.weighted_attainment
        row["m"] = period.guardrail_multiplier
        row["uncapped"] = period.bonus_before_caps
        row["paid_before"] = period.paid_before
        row["bonus"] = period.bonus
        row["base"] = period.base
        row["total"] = period.total
        row["cum_bonus"] = period.cumulative_bonus
        row["miss"] = float(period.miss)  # 1 / 0, shown as ✓ / — (see cellformulas)
        row["streak"] = float(period.miss_streak)
        row["exit"] = float(period.exit_eligible)
        if period.to_date_bonus is not None:
            row["to_date"] = period.to_date_bonus
    return blank
