"""Settle a contract against its actuals (SPEC §5), period by period or cumulatively."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kpixl.actuals import Actuals, Adjustments, PeriodData, resolve
from kpixl.engine._arrays import FloatArray
from kpixl.engine.attainment import Direction, attainment, weighted_attainment
from kpixl.engine.curves import factor
from kpixl.engine.exit_clause import exit_status, miss_streaks
from kpixl.engine.money import (
    apply_caps,
    contract_total,
    guardrail_multiplier,
    prorated_base,
    round_money,
)
from kpixl.engine.results import PeriodTable, Settlement, Totals
from kpixl.engine.rounding import excel_round
from kpixl.model import Aggregate, Contract, Guardrail, Kpi


@dataclass(frozen=True)
class KpiFigures:
    """Every KPI's figures over the settled periods: one row per KPI, one column per period."""

    actual: FloatArray
    target: FloatArray
    attainment: FloatArray
    factor: FloatArray
    payout: FloatArray
    #: Baselines as the attainment used them (NaN for a KPI without a baseline).
    baseline: FloatArray


def settle(
    contract: Contract,
    actuals: Actuals | PeriodData,
    adjustments: Adjustments | None = None,
) -> Settlement:
    """Settle every period that has actuals.

    Args:
        contract: the contract.
        actuals: actuals as read (checked here) or already resolved against the contract.
        adjustments: optional replacements, applied before settling and kept as audit trail.

    Returns:
        The settlement.

    Raises:
        ActualsError: the actuals or adjustments do not fit the contract.
    """
    data = actuals if isinstance(actuals, PeriodData) else resolve(contract, actuals, adjustments)
    cumulative = contract.settlement == "cumulative"
    index = np.asarray(data.indices, dtype=np.float64)
    pool = contract.fee.pool * index if cumulative else np.full(index.shape, contract.fee.pool)
    figures = kpi_figures(contract, data, pool, to_date=cumulative)
    own = kpi_figures(contract, data, pool, to_date=False) if cumulative else figures
    weights = [kpi.weight for kpi in contract.kpis]
    w = np.asarray(weighted_attainment(weights, own.attainment))
    values = guardrail_values(contract.guardrails, data, to_date=cumulative)
    m = _multiplier(contract.guardrails, values, len(data.indices))
    payouts = np.zeros(index.shape)
    for row in figures.payout:
        payouts = payouts + row
    uncapped = np.asarray(round_money(payouts * m, contract.decimals))
    return _assemble(contract, data, figures, w, m, uncapped, (own.attainment, values))


def kpi_figures(
    contract: Contract, data: PeriodData, pool: FloatArray, *, to_date: bool
) -> KpiFigures:
    """Actual, target, attainment, factor and payout of every KPI over the settled periods.

    Args:
        contract: the contract.
        data: resolved actuals.
        pool: the pool per settled period (already multiplied by p for to-date figures).
        to_date: roll actuals and targets up to date (cumulative settlement).

    Returns:
        The figures, one row per KPI (in contract order) and one column per settled period.
    """
    rows = np.asarray(data.indices, dtype=np.intp) - 1
    shape = (len(contract.kpis), rows.size)
    actual, target, baseline = np.empty(shape), np.empty(shape), np.full(shape, np.nan)
    for k, kpi in enumerate(contract.kpis):
        actual[k], target[k], base = _measured(contract, kpi, data, rows, to_date)
        if base is not None:
            baseline[k] = base
    a = np.empty(shape)
    # One call per kind of KPI (direction, with or without baseline) keeps the arithmetic in
    # the engine's single attainment function while working on whole blocks of KPIs.
    for (direction, has_baseline), members in _kinds(contract.kpis).items():
        b = baseline[members] if has_baseline else None
        a[members] = attainment(actual[members], target[members], direction, b)
    caps = [np.inf if kpi.attainment_cap is None else kpi.attainment_cap for kpi in contract.kpis]
    a = np.minimum(a, np.asarray(caps)[:, None])
    f = np.empty(shape)
    for k, kpi in enumerate(contract.kpis):
        curve = kpi.curve
        f[k] = factor(
            a[k],
            () if curve is None else curve.froms,
            () if curve is None else curve.rates,
            None if curve is None else curve.mode,
            kpi.threshold,
            kpi.factor_cap,
        )
    weights = np.asarray([kpi.weight for kpi in contract.kpis])[:, None]
    payout = np.asarray(round_money(pool[None, :] * weights * f, contract.decimals))
    return KpiFigures(actual, target, a, f, payout, baseline)


def _measured(
    contract: Contract, kpi: Kpi, data: PeriodData, rows: npt.NDArray[np.intp], to_date: bool
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    targets = np.asarray(kpi.effective_targets(contract.periods))[rows]
    baselines = kpi.baselines(contract.periods)
    base = None if baselines is None else np.asarray(baselines)[rows]
    if kpi.ratio is not None:
        numerator, denominator = (data.values[c] for c in kpi.ratio)
        if to_date:
            actual = np.cumsum(numerator) / np.cumsum(denominator)
        else:
            actual = numerator / denominator
    else:
        actual = data.values[kpi.source_column]
        if to_date:
            actual = roll_up(actual, kpi.rolls_up)
    if to_date:
        targets = roll_up(targets, kpi.rolls_up)
        base = None if base is None else roll_up(base, kpi.rolls_up)
    return actual, targets, base


def _kinds(kpis: tuple[Kpi, ...]) -> dict[tuple[Direction, bool], list[int]]:
    kinds: dict[tuple[Direction, bool], list[int]] = {}
    for k, kpi in enumerate(kpis):
        kinds.setdefault((kpi.direction, kpi.baseline is not None), []).append(k)
    return kinds


def roll_up(values: FloatArray, how: Aggregate) -> FloatArray:
    """To-date figures of a per-period series: running sum, running mean or the last value."""
    if how == "sum":
        return np.cumsum(values)
    if how == "mean":
        return np.cumsum(values) / np.arange(1, values.size + 1)
    return values.copy()


def guardrails_multiplier(
    guardrails: tuple[Guardrail, ...], data: PeriodData, *, to_date: bool
) -> FloatArray:
    """The product of every breached guardrail's multiplier, per settled period (SPEC §5.6)."""
    values = guardrail_values(guardrails, data, to_date=to_date)
    return _multiplier(guardrails, values, len(data.indices))


def guardrail_values(
    guardrails: tuple[Guardrail, ...], data: PeriodData, *, to_date: bool
) -> list[FloatArray]:
    """Each guardrail's measured value per settled period (to date when ``to_date``)."""
    out = []
    for guardrail in guardrails:
        if guardrail.ratio is not None:
            numerator, denominator = (data.values[c] for c in guardrail.ratio)
            if to_date:
                value = np.cumsum(numerator) / np.cumsum(denominator)
            else:
                value = numerator / denominator
        else:
            value = data.values[guardrail.source_column]
            if to_date:
                value = roll_up(value, guardrail.rolls_up)
        out.append(value)
    return out


def _multiplier(
    guardrails: tuple[Guardrail, ...], values: list[FloatArray], count: int
) -> FloatArray:
    m = np.ones(count)
    for guardrail, value in zip(guardrails, values, strict=True):
        m = m * np.asarray(
            guardrail_multiplier(
                value, guardrail.op, guardrail.bound, guardrail.effect, guardrail.breach_multiplier
            )
        )
    return m


def _bonuses(
    contract: Contract, index: FloatArray, uncapped: FloatArray
) -> tuple[list[float], list[float], list[float | None]]:
    """Each period's bonus after caps, the bonus paid up to and including it, and (cumulative
    settlement) the to-date bonus after the to-date caps."""
    fee = contract.fee
    d = contract.decimals
    bonuses: list[float] = []
    paid_through: list[float] = []
    to_dates: list[float | None] = []
    paid = 0.0
    for i, p in enumerate(index.tolist()):
        if contract.settlement == "cumulative":
            period_cap = None if fee.period_cap is None else fee.period_cap * p
            to_date = apply_caps(float(uncapped[i]), period_cap, 0.0, fee.contract_cap, d)
            bonus = excel_round(to_date - paid, d)
            if not contract.clawback:
                bonus = max(0.0, bonus)
            to_dates.append(to_date)
        else:
            bonus = apply_caps(float(uncapped[i]), fee.period_cap, paid, fee.contract_cap, d)
            to_dates.append(None)
        bonuses.append(bonus)
        paid = excel_round(paid + bonus, d)
        paid_through.append(paid)
    return bonuses, paid_through, to_dates


def _assemble(
    contract: Contract,
    data: PeriodData,
    figures: KpiFigures,
    w: FloatArray,
    m: FloatArray,
    uncapped: FloatArray,
    helpers: tuple[FloatArray, list[FloatArray]],
) -> Settlement:
    d = contract.decimals
    index = np.asarray(data.indices, dtype=np.float64)
    bonuses, paid, to_dates = _bonuses(contract, index, uncapped)
    misses, eligible, streaks = _exit_flags(contract, data, w)
    required = None if contract.min_input is None else contract.min_input.person_days
    days = None if required is None else data.values["person_days"]
    base_fee = prorated_base(contract.fee.base, days, required, d)
    bases = np.broadcast_to(np.asarray(base_fee, dtype=np.float64), index.shape)
    totals = np.asarray(round_money(bases + np.asarray(bonuses), d), dtype=np.float64)
    # One conversion to Python floats for the whole table, then plain indexing.
    table = PeriodTable(
        actual=figures.actual.tolist(),
        target=figures.target.tolist(),
        attainment=figures.attainment.tolist(),
        factor=figures.factor.tolist(),
        payout=figures.payout.tolist(),
        weighted=w.tolist(),
        multiplier=m.tolist(),
        uncapped=uncapped.tolist(),
        bonus=bonuses,
        base=bases.tolist(),
        total=totals.tolist(),
        miss=misses,
        eligible=eligible,
        paid=paid,
        streak=streaks,
        to_date=to_dates,
        baselines=figures.baseline.tolist(),
        has_baseline=[kpi.baseline is not None for kpi in contract.kpis],
        own=helpers[0].tolist(),
        guards=[values.tolist() for values in helpers[1]],
    )
    codes = [kpi.code for kpi in contract.kpis]
    periods = table.rows(data.indices, contract.period_labels, codes)
    totals_row = Totals(
        base=contract_total((p.base for p in periods), d),
        bonus=contract_total((p.bonus for p in periods), d),
        total=contract_total((p.total for p in periods), d),
    )
    return Settlement(
        contract.id,
        contract.currency,
        d,
        contract.settlement,
        tuple(periods),
        totals_row,
        data.adjustments,
    )


def _exit_flags(
    contract: Contract, data: PeriodData, w: FloatArray
) -> tuple[list[bool], list[bool], list[int]]:
    """Each settled period's miss, exit eligibility and misses in a row (SPEC §5.11)."""
    count = len(data.indices)
    if contract.exit is None or not data.indices:
        return [False] * count, [False] * count, [0] * count
    # Unsettled periods between settled ones are not misses: they break a streak.
    series = [math.nan] * data.indices[-1]
    for i, index in enumerate(data.indices):
        series[index - 1] = float(w[i])
    misses, eligible = exit_status(series, contract.exit.threshold, contract.exit.consecutive)
    streaks = miss_streaks(misses)
    return (
        [misses[i - 1] for i in data.indices],
        [eligible[i - 1] for i in data.indices],
        [streaks[i - 1] for i in data.indices],
    )
