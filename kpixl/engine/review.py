"""Review for renewal: the contract's history, from the settlement's own figures only.

Every figure is a count, a sum, a mean or a ratio of figures the settlement already holds; no
§5 rule is applied again. In cumulative settlement a KPI's figures are the to-date ones the
settlement paid on, and a period's own revenue is the difference of the to-date revenue.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from kpixl.engine.results import Settlement
from kpixl.engine.rounding import excel_round
from kpixl.model import Contract


@dataclass(frozen=True, slots=True)
class KpiReview:
    """One KPI over the settled periods."""

    code: str
    attainment: tuple[float, ...]
    at_or_above_target: int
    below_threshold: int | None
    first_half_attainment: float | None
    second_half_attainment: float | None
    above_baseline: tuple[float, ...] | None


@dataclass(frozen=True, slots=True)
class PeriodFee:
    """One settled period's fee against its revenue."""

    period: str
    base: float
    bonus: float
    total: float
    revenue: float | None
    fee_share_of_revenue: float | None
    revenue_growth: float | None
    revenue_over_baseline: float | None


@dataclass(frozen=True, slots=True)
class FeeReview:
    """What the contract paid, against the pool and the revenue."""

    base: float
    bonus: float
    total: float
    pool: float
    bonus_share_of_pool: float | None
    revenue: float | None
    fee_share_of_revenue: float | None
    revenue_growth: float | None
    periods: tuple[PeriodFee, ...]


@dataclass(frozen=True, slots=True)
class ExitReview:
    """The exit clause over the settled periods."""

    threshold: float
    consecutive: int
    misses: int
    missed_periods: tuple[str, ...]
    longest_streak: int
    exit_eligible_now: bool


@dataclass(frozen=True, slots=True)
class MetricAdjustments:
    """The adjustments of one metric."""

    metric: str
    count: int
    net_change: float


@dataclass(frozen=True, slots=True)
class AdjustmentReview:
    """Adjustments applied: how many, by metric, and what they changed in the fee."""

    count: int
    by_metric: tuple[MetricAdjustments, ...]
    fee_effect: float | None


@dataclass(frozen=True)
class Review:
    """The review for renewal; ``to_dict`` is the ``kpixl review --json`` document."""

    contract: str
    currency: str
    decimals: int
    settlement: str
    periods: tuple[str, ...]
    periods_in_contract: int
    kpis: tuple[KpiReview, ...]
    fee: FeeReview
    exit: ExitReview | None
    adjustments: AdjustmentReview

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (keys documented in README, ``kpixl review``)."""
        return {
            "contract": self.contract,
            "currency": self.currency,
            "settlement": self.settlement,
            "periods": list(self.periods),
            "periods_settled": len(self.periods),
            "periods_in_contract": self.periods_in_contract,
            "kpis": [_plain(asdict(k)) for k in self.kpis],
            "fee": _plain(asdict(self.fee)),
            "exit": None if self.exit is None else _plain(asdict(self.exit)),
            "adjustments": _plain(asdict(self.adjustments)),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def review(
    contract: Contract, settlement: Settlement, unadjusted: Settlement | None = None
) -> Review:
    """The review for renewal of a settled contract.

    Args:
        contract: the contract (thresholds, baselines, exit clause, revenue KPI).
        settlement: its settlement (adjustments applied).
        unadjusted: the same settlement without adjustments, for their effect on the fee.

    Returns:
        The review.
    """
    periods = settlement.periods
    kpis = tuple(_kpi_review(contract, settlement, k) for k in range(len(contract.kpis)))
    fee_effect = None
    if unadjusted is not None:
        difference = settlement.totals.total - unadjusted.totals.total
        fee_effect = excel_round(difference, settlement.decimals)
    return Review(
        contract=settlement.contract_id,
        currency=settlement.currency,
        decimals=settlement.decimals,
        settlement=settlement.settlement,
        periods=tuple(p.period for p in periods),
        periods_in_contract=contract.periods,
        kpis=kpis,
        fee=_fee_review(contract, settlement),
        exit=_exit_review(contract, settlement),
        adjustments=_adjustment_review(settlement, fee_effect),
    )


def half_length(count: int) -> int:
    """How many periods each half holds: ``count // 2`` (an odd middle period is in neither)."""
    return count // 2


def halves(values: tuple[float, ...]) -> tuple[float | None, float | None]:
    """Mean of the first and of the last ``n // 2`` values (an odd middle value is in neither)."""
    half = half_length(len(values))
    if half == 0:
        return None, None
    return math.fsum(values[:half]) / half, math.fsum(values[-half:]) / half


def _kpi_review(contract: Contract, settlement: Settlement, k: int) -> KpiReview:
    kpi = contract.kpis[k]
    results = [period.kpis[k] for period in settlement.periods]
    attainment = tuple(r.attainment for r in results)
    first, second = halves(attainment)
    below = None
    if kpi.threshold is not None:
        below = sum(1 for a in attainment if a < kpi.threshold)
    above_baseline = None
    baselines = kpi.baselines(contract.periods)
    if baselines is not None and settlement.settlement == "period":
        above_baseline = tuple(
            r.actual - baselines[p.index - 1]
            for r, p in zip(results, settlement.periods, strict=True)
        )
    return KpiReview(
        code=kpi.code,
        attainment=attainment,
        at_or_above_target=sum(1 for a in attainment if a >= 1.0),
        below_threshold=below,
        first_half_attainment=first,
        second_half_attainment=second,
        above_baseline=above_baseline,
    )


def _revenues(contract: Contract, settlement: Settlement) -> list[float] | None:
    """Each settled period's own revenue (the revenue KPI's actual), when there is one."""
    if contract.revenue_kpi is None:
        return None
    k = [kpi.code for kpi in contract.kpis].index(contract.revenue_kpi)
    kpi = contract.kpis[k]
    actuals = [period.kpis[k].actual for period in settlement.periods]
    if settlement.settlement == "period":
        return actuals
    if kpi.ratio is not None or kpi.rolls_up != "sum":
        return None  # a to-date mean or ratio cannot be split back into periods
    return [a - (actuals[i - 1] if i else 0.0) for i, a in enumerate(actuals)]


def _fee_review(contract: Contract, settlement: Settlement) -> FeeReview:
    periods = settlement.periods
    revenues = _revenues(contract, settlement)
    baselines = None
    if revenues is not None and contract.revenue_kpi is not None:
        baselines = contract.kpi(contract.revenue_kpi).baselines(contract.periods)
    rows = []
    for i, p in enumerate(periods):
        revenue = None if revenues is None else revenues[i]
        first = None if revenues is None else revenues[0]
        rows.append(
            PeriodFee(
                period=p.period,
                base=p.base,
                bonus=p.bonus,
                total=p.total,
                revenue=revenue,
                fee_share_of_revenue=_share(p.total, revenue),
                revenue_growth=None if revenue is None else _growth(revenue, first),
                revenue_over_baseline=(
                    None
                    if revenue is None or baselines is None
                    else _growth(revenue, baselines[p.index - 1])
                ),
            )
        )
    totals = settlement.totals
    pool = contract.fee.pool * len(periods)
    revenue_total = None if revenues is None else math.fsum(revenues)
    growth = None
    if revenues:
        growth = _growth(revenues[-1], revenues[0])
    return FeeReview(
        base=totals.base,
        bonus=totals.bonus,
        total=totals.total,
        pool=pool,
        bonus_share_of_pool=_share(totals.bonus, pool),
        revenue=revenue_total,
        fee_share_of_revenue=_share(totals.total, revenue_total),
        revenue_growth=growth,
        periods=tuple(rows),
    )


def _share(part: float, whole: float | None) -> float | None:
    return None if whole is None or whole == 0 else part / whole


def _growth(value: float, start: float | None) -> float | None:
    return None if start is None or start == 0 else value / start - 1


def _exit_review(contract: Contract, settlement: Settlement) -> ExitReview | None:
    if contract.exit is None:
        return None
    # An unsettled period between settled ones breaks a streak, as in the settlement.
    by_index = {period.index: period.miss for period in settlement.periods}
    last_index = max(by_index, default=0)
    longest = longest_streak([by_index.get(i) for i in range(1, last_index + 1)])
    last = settlement.periods[-1] if settlement.periods else None
    return ExitReview(
        threshold=contract.exit.threshold,
        consecutive=contract.exit.consecutive,
        misses=sum(1 for p in settlement.periods if p.miss),
        missed_periods=tuple(p.period for p in settlement.periods if p.miss),
        longest_streak=longest,
        exit_eligible_now=bool(last and last.exit_eligible),
    )


def longest_streak(misses: Sequence[bool | None]) -> int:
    """The longest run of misses in a row; None (a period not settled) breaks a run.

    Args:
        misses: each period's miss flag in period order, None where it is not settled.

    Returns:
        The longest run (0 without a miss).
    """
    longest = streak = 0
    for miss in misses:
        streak = streak + 1 if miss else 0
        longest = max(longest, streak)
    return longest


def _adjustment_review(settlement: Settlement, fee_effect: float | None) -> AdjustmentReview:
    by_metric: dict[str, list[float]] = {}
    for record in settlement.adjustments:
        change = record.adjusted - (0.0 if record.original is None else record.original)
        by_metric.setdefault(record.metric, []).append(change)
    return AdjustmentReview(
        count=len(settlement.adjustments),
        by_metric=tuple(
            MetricAdjustments(metric, len(changes), math.fsum(changes))
            for metric, changes in by_metric.items()
        ),
        fee_effect=fee_effect,
    )
