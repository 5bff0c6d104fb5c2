"""Settlement results: immutable records with the SPEC §8 JSON document and a DataFrame view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from kpixl.actuals import AdjustmentRecord

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, slots=True)
class KpiResult:
    """One KPI in one period. In cumulative settlement the figures are to-date."""

    code: str
    actual: float
    target: float
    attainment: float
    factor: float
    payout: float


@dataclass(frozen=True, slots=True)
class PeriodResult:
    """One settled period."""

    index: int
    period: str
    kpis: tuple[KpiResult, ...]
    weighted_attainment: float
    guardrail_multiplier: float
    bonus_before_caps: float
    bonus: float
    base: float
    total: float
    miss: bool
    exit_eligible: bool
    cumulative_bonus: float
    # What the workbook's helper columns show beside the SPEC §8 figures (not in to_dict()):
    #: Misses in a row ending with this period (0 without an exit clause).
    miss_streak: int = 0
    #: Bonus paid in the periods before this one.
    paid_before: float = 0.0
    #: Cumulative settlement: the to-date bonus after the to-date caps (None by period).
    to_date_bonus: float | None = None
    #: Each KPI's baseline (to date in cumulative settlement), None for a KPI without one.
    baselines: tuple[float | None, ...] = ()
    #: Each KPI's own-period attainment (what W weighs), in contract order.
    own_attainments: tuple[float, ...] = ()
    #: Each guardrail's measured value (to date in cumulative settlement), in contract order.
    guardrail_values: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """This period as in the ``--json`` document."""
        return {
            "index": self.index,
            "period": self.period,
            "kpis": [asdict(kpi) for kpi in self.kpis],
            "weighted_attainment": self.weighted_attainment,
            "guardrail_multiplier": self.guardrail_multiplier,
            "bonus": self.bonus,
            "base": self.base,
            "total": self.total,
            "miss": self.miss,
            "exit_eligible": self.exit_eligible,
            "cumulative_bonus": self.cumulative_bonus,
        }


@dataclass(frozen=True, slots=True)
class PeriodTable:
    """A settlement's figures as plain lists, one entry per settled period: what ``settle``
    and ``settle_many`` each compute with arrays, made into ``PeriodResult`` rows in one place.

    KPI matrices, ``baselines`` and ``own`` are indexed ``[kpi][period]``, ``guards``
    ``[guardrail][period]``; ``to_date`` is None for every period in period settlement.
    """

    actual: list[list[float]]
    target: list[list[float]]
    attainment: list[list[float]]
    factor: list[list[float]]
    payout: list[list[float]]
    weighted: list[float]
    multiplier: list[float]
    uncapped: list[float]
    bonus: list[float]
    base: list[float]
    total: list[float]
    miss: list[bool]
    eligible: list[bool]
    paid: list[float]
    streak: list[int]
    to_date: list[float | None]
    baselines: list[list[float]]
    has_baseline: list[bool]
    own: list[list[float]]
    guards: list[list[float]]

    def rows(
        self, indices: Sequence[int], labels: Sequence[str], codes: Sequence[str]
    ) -> tuple[PeriodResult, ...]:
        """One ``PeriodResult`` per settled period (``indices``: 1-based period numbers)."""
        actual, target, a, f, pay = (
            self.actual,
            self.target,
            self.attainment,
            self.factor,
            self.payout,
        )
        paid, has_baseline, baselines = self.paid, self.has_baseline, self.baselines
        return tuple(
            PeriodResult(
                index=p,
                period=labels[p - 1],
                kpis=tuple(
                    KpiResult(code, actual[k][i], target[k][i], a[k][i], f[k][i], pay[k][i])
                    for k, code in enumerate(codes)
                ),
                weighted_attainment=self.weighted[i],
                guardrail_multiplier=self.multiplier[i],
                bonus_before_caps=self.uncapped[i],
                bonus=self.bonus[i],
                base=self.base[i],
                total=self.total[i],
                miss=self.miss[i],
                exit_eligible=self.eligible[i],
                cumulative_bonus=paid[i],
                miss_streak=self.streak[i],
                paid_before=paid[i - 1] if i else 0.0,
                to_date_bonus=self.to_date[i],
                baselines=tuple(
                    baselines[k][i] if has else None for k, has in enumerate(has_baseline)
                ),
                own_attainments=tuple(row[i] for row in self.own),
                guardrail_values=tuple(row[i] for row in self.guards),
            )
            for i, p in enumerate(indices)
        )


@dataclass(frozen=True, slots=True)
class Totals:
    """Contract totals over the settled periods."""

    base: float
    bonus: float
    total: float


@dataclass(frozen=True)
class Settlement:
    """A contract's settlement: every settled period, totals and the adjustments applied."""

    contract_id: str
    currency: str
    decimals: int
    settlement: str
    periods: tuple[PeriodResult, ...]
    totals: Totals
    adjustments: tuple[AdjustmentRecord, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The ``kpixl settle --json`` document of SPEC §8 (plus ``adjustments`` when any)."""
        document: dict[str, Any] = {
            "contract": self.contract_id,
            "currency": self.currency,
            "periods": [period.to_dict() for period in self.periods],
            "totals": asdict(self.totals),
        }
        if self.adjustments:
            document["adjustments"] = [asdict(record) for record in self.adjustments]
        return document

    def to_frame(self) -> pd.DataFrame:
        """One row per period and KPI, with the period's figures repeated on each row."""
        import pandas as pd  # pandas is heavy: only notebook users and batch runs need it

        rows = []
        for period in self.periods:
            shared = {
                "contract": self.contract_id,
                "index": period.index,
                "period": period.period,
            }
            after = {
                "weighted_attainment": period.weighted_attainment,
                "guardrail_multiplier": period.guardrail_multiplier,
                "bonus": period.bonus,
                "base": period.base,
                "total": period.total,
                "miss": period.miss,
                "exit_eligible": period.exit_eligible,
                "cumulative_bonus": period.cumulative_bonus,
            }
            for kpi in period.kpis:
                rows.append({**shared, "kpi": kpi.code, **_kpi_columns(kpi), **after})
        return pd.DataFrame(rows)


def _kpi_columns(kpi: KpiResult) -> dict[str, float]:
    return {
        "actual": kpi.actual,
        "target": kpi.target,
        "attainment": kpi.attainment,
        "factor": kpi.factor,
        "payout": kpi.payout,
    }
