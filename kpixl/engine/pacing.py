"""Pacing (SPEC §9): project the open period from daily rows, settle it, next step per KPI."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from kpixl.actuals import PeriodData
from kpixl.daily import DailyData, period_containing, period_dates
from kpixl.engine.results import KpiResult, Settlement
from kpixl.engine.settle import settle
from kpixl.errors import ActualsError, Issue
from kpixl.model import Contract, Kpi

Kind = Literal["sum", "mean", "last"]


@dataclass(frozen=True, slots=True)
class NextStep:
    """What a KPI needs to reach its next breakpoint (SPEC §9)."""

    attainment: float
    actual: float
    rest_of_period: float | None
    per_day: float | None


@dataclass(frozen=True, slots=True)
class KpiPace:
    """One KPI of the open period: to date, projected, settled as projected, and the next step."""

    code: str
    to_date: float
    projected: float
    target: float
    attainment: float
    factor: float
    payout: float
    next_step: NextStep | None


@dataclass(frozen=True)
class Pacing:
    """Where the open period is heading: the SPEC §9 document and what a display needs.

    ``column_to_date`` holds every needed column's to-date value (what the Pacing sheet takes).
    """

    contract: str
    currency: str
    decimals: int
    period: str
    index: int
    as_of: dt.date
    days_elapsed: int
    days_in_period: int
    days_with_data: int
    kpis: tuple[KpiPace, ...]
    guardrail_multiplier: float
    bonus: float
    base: float
    total: float
    column_to_date: dict[str, float] = field(default_factory=dict)
    bonus_before_caps: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The ``kpixl pace --json`` document of SPEC §9."""
        return {
            "contract": self.contract,
            "currency": self.currency,
            "period": self.period,
            "index": self.index,
            "as_of": self.as_of.isoformat(),
            "days_elapsed": self.days_elapsed,
            "days_in_period": self.days_in_period,
            "days_with_data": self.days_with_data,
            "kpis": [
                {
                    "code": k.code,
                    "to_date": k.to_date,
                    "projected": k.projected,
                    "target": k.target,
                    "attainment": k.attainment,
                    "factor": k.factor,
                    "payout": k.payout,
                    "next_step": None if k.next_step is None else asdict(k.next_step),
                }
                for k in self.kpis
            ],
            "guardrail_multiplier": self.guardrail_multiplier,
            "bonus": self.bonus,
            "base": self.base,
            "total": self.total,
        }


def column_kinds(contract: Contract) -> dict[str, Kind]:
    """How each needed column rolls up over the days of a period (SPEC §9).

    ``sum`` for a ratio's numerator or denominator, ``person_days`` and the metric of a KPI whose
    aggregate is ``sum``; otherwise ``mean``, or ``last`` when that KPI's aggregate is ``last``.
    The first KPI that reads a column as its metric decides; guardrail-only columns are ``mean``.
    """
    kinds: dict[str, Kind] = {}
    for measured in (*contract.kpis, *contract.guardrails):
        if measured.ratio is not None:
            for column in measured.ratio:
                kinds[column] = "sum"
    if contract.min_input is not None:
        kinds["person_days"] = "sum"
    for kpi in contract.kpis:
        if kpi.ratio is None:
            kinds.setdefault(kpi.source_column, kpi.rolls_up)
    for column in contract.required_columns:
        kinds.setdefault(column, "mean")
    return kinds


def breakpoints(kpi: Kpi) -> tuple[float, ...]:
    """A KPI's breakpoints: threshold, tier ``from``s and 1.0, those ≤ attainment_cap, ascending."""
    points = {1.0}
    if kpi.threshold is not None:
        points.add(kpi.threshold)
    if kpi.curve is not None:
        points.update(kpi.curve.froms)
    if kpi.attainment_cap is not None:
        points = {b for b in points if b <= kpi.attainment_cap}
    return tuple(sorted(points))


def next_breakpoint(attainment: float, points: Sequence[float]) -> float | None:
    """The smallest breakpoint strictly above the projected attainment, or None."""
    above = [b for b in points if b > attainment]
    return min(above) if above else None


def actual_for(direction: str, b: float, target: float, baseline: float | None = None) -> float:
    """A*, the actual that gives attainment ``b`` (SPEC §5.3 inverted).

    Args:
        direction: ``higher`` or ``lower``.
        b: the attainment wanted.
        target: the period's effective target T.
        baseline: the period's baseline B, if any.

    Returns:
        ``b·T`` or ``B + b·(T − B)`` (higher); ``(2 − b)·T`` or ``B − b·(B − T)`` (lower).
    """
    if direction == "higher":
        return b * target if baseline is None else baseline + b * (target - baseline)
    if direction == "lower":
        return (2 - b) * target if baseline is None else baseline - b * (baseline - target)
    raise ValueError(f"direction must be 'higher' or 'lower', not {direction!r}")


def project(to_date: float, kind: str, n: int, e: int) -> float:
    """A column's projected period value: to-date · N / e for ``sum``, else the to-date value.

    With the whole period present (e = N) the to-date value is returned as it is.
    """
    if kind not in ("sum", "mean", "last"):
        raise ValueError(f"kind must be 'sum', 'mean' or 'last', not {kind!r}")
    _check_days(n, e)
    return to_date * n / e if kind == "sum" and e != n else to_date


def rest_needed(
    shape: str, a_star: float, to_date: float, n: int, e: int, denominator: float | None = None
) -> tuple[float | None, float | None]:
    """``rest_of_period`` and ``per_day`` of a next step (SPEC §9); both None when R = 0.

    Args:
        shape: ``sum``, ``mean`` or ``last`` (the KPI's column kind), or ``ratio``.
        a_star: the actual that reaches the next breakpoint.
        to_date: the to-date value (for a ratio: the numerator's to-date sum).
        n: days in the period.
        e: days elapsed.
        denominator: a ratio's denominator to-date sum.

    Returns:
        (rest_of_period, per_day).
    """
    _check_days(n, e)
    r = n - e
    if shape not in ("sum", "mean", "last", "ratio"):
        raise ValueError(f"shape must be 'sum', 'mean', 'last' or 'ratio', not {shape!r}")
    if r == 0:
        return None, None
    if shape == "ratio":
        if denominator is None:
            raise ValueError("a ratio needs its denominator's to-date sum")
        projected = denominator * n / e
        return (a_star * projected - to_date) / (projected - denominator), None
    if shape == "sum":
        rest = a_star - to_date
        return rest, rest / r
    if shape == "mean":
        return (a_star * n - to_date * e) / r, None
    # `last`: the period's value is its last day's, so the rest of the period must end at A*.
    return a_star, None


def _check_days(n: int, e: int) -> None:
    if not 1 <= e <= n:
        raise ValueError(f"days elapsed must be within 1..{n}, not {e}")


def pace(
    contract: Contract,
    daily: DailyData,
    as_of: dt.date | None = None,
    settled: Settlement | None = None,
) -> Pacing:
    """Project the period that contains ``as_of`` and settle the projection (SPEC §9).

    Args:
        contract: the contract.
        daily: the daily rows, checked against the contract.
        as_of: the day D; default the last date in the daily rows.
        settled: the settlement of earlier periods (``--actuals``): the contract cap then counts
            the bonus it paid in periods before D's period.

    Returns:
        The pacing of the open period.

    Raises:
        ActualsError: D is outside the contract (KX236), or the period cannot be projected
            (no row up to D, a ratio whose denominator is still 0: KX237).
    """
    if as_of is None:
        if not daily.dates:
            raise ActualsError.from_issues([Issue(daily.source, "KX237", "has no daily rows")])
        as_of = daily.dates[-1]
    index = _period_of(contract, as_of, daily.source)
    first, _ = period_dates(contract, index)
    rows = [i for i, day in enumerate(daily.dates) if first <= day <= as_of]
    where = f"{daily.source}: period {contract.period_label(index)} up to {as_of.isoformat()}"
    if not rows:
        raise ActualsError.from_issues([Issue(where, "KX237", "no daily row to project from")])
    to_date: dict[str, float] = {}
    for column, kind in column_kinds(contract).items():
        value = to_date_of(kind, daily.dates, daily.values[column].tolist(), first, as_of)
        if value is None:
            message = f"no value of {column!r} to project from (every cell is blank)"
            raise ActualsError.from_issues([Issue(f"{where}, column {column}", "KX237", message)])
        to_date[column] = value
    paid = 0.0
    if settled is not None:
        earlier = [p for p in settled.periods if p.index < index]
        paid = earlier[-1].cumulative_bonus if earlier else 0.0
    return pace_to_date(contract, as_of, to_date, len(rows), paid, daily.source)


def pace_to_date(
    contract: Contract,
    as_of: dt.date,
    to_date: dict[str, float],
    days_with_data: int,
    paid_before: float = 0.0,
    source: str = "pacing",
) -> Pacing:
    """Pace the period that contains ``as_of`` from every needed column's to-date value.

    Args:
        contract: the contract.
        as_of: the day D.
        to_date: each needed column's to-date value (sum, mean or last row, by its kind).
        days_with_data: how many days had a row (reported only).
        paid_before: bonus paid in periods before D's period (the contract cap counts it).
        source: how errors name where the figures came from.

    Returns:
        The pacing of the open period.

    Raises:
        ActualsError: D outside the contract (KX236); a column missing, or a ratio's
            denominator that sums to 0 (KX237).
    """
    index = _period_of(contract, as_of, source)
    first, last = period_dates(contract, index)
    n = (last - first).days + 1
    e = (as_of - first).days + 1
    label = contract.period_label(index)
    where = f"{source}: period {label} up to {as_of.isoformat()}"
    kinds = column_kinds(contract)
    missing = [column for column in kinds if column not in to_date]
    if missing:
        message = f"no to-date value of {missing[0]!r}"
        raise ActualsError.from_issues([Issue(f"{where}, column {missing[0]}", "KX237", message)])
    zero = [
        column
        for measured in (*contract.kpis, *contract.guardrails)
        if measured.ratio is not None
        for column in measured.ratio[1:]
        if to_date[column] == 0
    ]
    if zero:
        message = f"the denominator {zero[0]!r} sums to 0 so far: no ratio to project"
        raise ActualsError.from_issues([Issue(f"{where}, column {zero[0]}", "KX237", message)])
    values = {column: to_date[column] for column in kinds}
    projected = {column: project(value, kinds[column], n, e) for column, value in values.items()}
    result = _settle_projection(contract, index, projected, paid_before)
    period = result.periods[0]
    kpis = tuple(
        _kpi_pace(contract, kpi, index, settled_kpi, kinds, values, n, e)
        for kpi, settled_kpi in zip(contract.kpis, period.kpis, strict=True)
    )
    return Pacing(
        contract=contract.id,
        currency=contract.currency,
        decimals=contract.decimals,
        period=label,
        index=index,
        as_of=as_of,
        days_elapsed=e,
        days_in_period=n,
        days_with_data=days_with_data,
        kpis=kpis,
        guardrail_multiplier=period.guardrail_multiplier,
        bonus=period.bonus,
        base=period.base,
        total=period.total,
        column_to_date=values,
        bonus_before_caps=period.bonus_before_caps,
    )


def _period_of(contract: Contract, as_of: dt.date, source: str) -> int:
    index = period_containing(contract, as_of)
    if index is None:
        first, _ = period_dates(contract, 1)
        _, last = period_dates(contract, contract.periods)
        message = (
            f"as-of date {as_of.isoformat()} is outside the contract "
            f"({first.isoformat()} .. {last.isoformat()})"
        )
        raise ActualsError.from_issues([Issue(source, "KX236", message)])
    return index


def to_date_of(
    kind: str,
    days: Sequence[dt.date],
    values: Sequence[float | None],
    first: dt.date,
    as_of: dt.date,
) -> float | None:
    """A column's to-date value from its daily rows (SPEC §9): the days ``first`` .. ``as_of``.

    A blank value (None or NaN) is a day without that figure. ``sum``: Σ of the values (0 when
    there is none); ``mean``: their mean; ``last``: the value of the last day that has one.

    Args:
        kind: the column's kind, ``sum``, ``mean`` or ``last``.
        days: the date of every row, in any order.
        values: the column's value on each row (None or NaN: blank).
        first: the period's first day.
        as_of: the day D.

    Returns:
        The to-date value, or None for a ``mean`` or ``last`` column without a value yet.
    """
    if kind not in ("sum", "mean", "last"):
        raise ValueError(f"kind must be 'sum', 'mean' or 'last', not {kind!r}")
    if len(days) != len(values):
        raise ValueError(f"{len(days)} dates but {len(values)} values")
    dated = sorted(
        (day, value)
        for day, value in zip(days, values, strict=True)
        if first <= day <= as_of and value is not None and not math.isnan(value)
    )
    if not dated and kind != "sum":
        return None
    return _to_date([value for _, value in dated], kind)


def _to_date(values: list[float], kind: str) -> float:
    if kind == "sum":
        return math.fsum(values)
    if kind == "mean":
        return math.fsum(values) / len(values)
    return values[-1]


def _settle_projection(
    contract: Contract, index: int, projected: dict[str, float], paid_before: float
) -> Settlement:
    """Settle the projected period with §5 alone: period semantics, the cap less what was paid."""
    fee = contract.fee
    if fee.contract_cap is not None and paid_before:
        # §5.7 caps at max(0, cap − paid before p); settling p alone with that as the cap is it.
        fee = fee.model_copy(update={"contract_cap": max(0.0, fee.contract_cap - paid_before)})
    terms = contract.model_copy(update={"settlement": "period", "fee": fee})
    data = PeriodData((index,), {c: np.asarray([v]) for c, v in projected.items()})
    return settle(terms, data)


def _kpi_pace(
    contract: Contract,
    kpi: Kpi,
    index: int,
    settled: KpiResult,
    kinds: dict[str, Kind],
    to_date: dict[str, float],
    n: int,
    e: int,
) -> KpiPace:
    if kpi.ratio is not None:
        numerator, denominator = kpi.ratio
        so_far = to_date[numerator] / to_date[denominator]
    else:
        so_far = to_date[kpi.source_column]
    step = None
    b = next_breakpoint(settled.attainment, breakpoints(kpi))
    if b is not None:
        baselines = kpi.baselines(contract.periods)
        baseline = None if baselines is None else baselines[index - 1]
        a_star = actual_for(kpi.direction, b, settled.target, baseline)
        if kpi.ratio is not None:
            num, den = (to_date[c] for c in kpi.ratio)
            rest, per_day = rest_needed("ratio", a_star, num, n, e, den)
        else:
            column = kpi.source_column
            rest, per_day = rest_needed(kinds[column], a_star, to_date[column], n, e)
        step = NextStep(b, a_star, rest, per_day)
    return KpiPace(
        code=kpi.code,
        to_date=so_far,
        projected=settled.actual,
        target=settled.target,
        attainment=settled.attainment,
        factor=settled.factor,
        payout=settled.payout,
        next_step=step,
    )
