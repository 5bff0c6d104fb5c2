"""The value every formula cell of the template holds, as the engine computes it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kpixl.actuals import (
    Actuals,
    Adjustments,
    PeriodData,
    parse_number,
    period_index,
    resolve,
)
from kpixl.engine.money import apply_caps
from kpixl.engine.rounding import excel_round
from kpixl.engine.settle import kpi_figures, roll_up, settle
from kpixl.model import Contract
from kpixl.workbook.layout import QUOTE, SETTLEMENT, Layout, cell

CellValue = float | bool | str


@dataclass(frozen=True)
class ActualsGrid:
    """What the Actuals sheet holds: original values by (period, metric) and adjustment rows."""

    values: dict[tuple[int, str], float]
    adjustments: tuple[tuple[str, str, float, str, str], ...]


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
    layout: Layout, grid: ActualsGrid, data: PeriodData | None
) -> dict[str, dict[str, CellValue]]:
    """Every formula cell's value: ``{sheet: {A1: value}}``.

    Args:
        layout: the workbook layout.
        grid: what the Actuals sheet holds.
        data: the resolved actuals (adjustments applied), or None when nothing is settled.

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
    for i, key in enumerate(("base", "bonus", "total")):
        values[QUOTE][cell(layout.summary_row + 1 + i, 1)] = totals[key]
    for p in range(1, layout.n + 1):
        for c, key in enumerate(("base", "bonus", "total"), start=1):
            values[QUOTE][cell(layout.per_period_row + p, c)] = rows[p][key]
    return values


def _totals(rows: dict[int, dict[str, CellValue]], decimals: int) -> dict[str, float]:
    out = {}
    for key in ("base", "bonus", "total"):
        amounts = [float(r[key]) for r in rows.values() if r[key] != ""]
        out[key] = excel_round(math.fsum(amounts), decimals) if amounts else 0.0
    return out


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
    result = settle(contract, data)
    extra = _extras(layout, data, result)
    streak = 0
    previous = 0
    for i, (index, period) in enumerate(zip(data.indices, result.periods, strict=True)):
        row = blank[index]
        for m in layout.metrics:
            row[f"x:{m}"] = float(data.values[m][i])
        for kpi, figures in zip(contract.kpis, period.kpis, strict=True):
            code = kpi.code
            row[f"actual:{code}"] = figures.actual
            row[f"target:{code}"] = figures.target
            row[f"attainment:{code}"] = figures.attainment
            row[f"factor:{code}"] = figures.factor
            row[f"payout:{code}"] = figures.payout
        row.update(extra[i])
        row["w"] = period.weighted_attainment
        row["m"] = period.guardrail_multiplier
        row["uncapped"] = period.bonus_before_caps
        row["paid_before"] = float(result.periods[i - 1].cumulative_bonus) if i else 0.0
        row["bonus"] = period.bonus
        row["base"] = period.base
        row["total"] = period.total
        row["cum_bonus"] = period.cumulative_bonus
        row["miss"] = period.miss
        streak = streak + 1 if period.miss and index == previous + 1 else int(period.miss)
        previous = index
        row["streak"] = float(streak)
        row["exit"] = period.exit_eligible
        if layout.cumulative:
            fee = contract.fee
            cap = None if fee.period_cap is None else fee.period_cap * index
            row["to_date"] = apply_caps(
                period.bonus_before_caps, cap, 0.0, fee.contract_cap, contract.decimals
            )
    return blank


def _extras(layout: Layout, data: PeriodData, result: object) -> list[dict[str, CellValue]]:
    """Helper columns settle() does not carry: baselines, own attainment, guardrail values."""
    contract = layout.contract
    out: list[dict[str, CellValue]] = [{} for _ in data.indices]
    rows = np.asarray(data.indices) - 1
    index = np.asarray(data.indices, dtype=np.float64)
    pool = contract.fee.pool * index
    own = kpi_figures(contract, data, pool, to_date=False).attainment if layout.cumulative else None
    for k, kpi in enumerate(contract.kpis):
        baselines = kpi.baselines(contract.periods)
        if baselines is not None:
            base = np.asarray(baselines)[rows]
            if layout.cumulative:
                base = roll_up(base, kpi.rolls_up)
            for i in range(len(rows)):
                out[i][f"baseline:{kpi.code}"] = float(base[i])
        if own is not None:
            for i in range(len(rows)):
                out[i][f"own:{kpi.code}"] = float(own[k][i])
    for j, guardrail in enumerate(contract.guardrails):
        if guardrail.ratio is not None:
            num, den = (data.values[c] for c in guardrail.ratio)
            value = np.cumsum(num) / np.cumsum(den) if layout.cumulative else num / den
        else:
            value = data.values[guardrail.source_column]
            if layout.cumulative:
                value = roll_up(value, guardrail.rolls_up)
        for i in range(len(rows)):
            out[i][f"g:{j}"] = float(value[i])
    return out


def resolved(
    contract: Contract, actuals: Actuals | None, adjustments: Adjustments | None
) -> PeriodData | None:
    """Resolve actuals against the contract, or None when there are none."""
    if actuals is None:
        return None
    return resolve(contract, actuals, adjustments)
