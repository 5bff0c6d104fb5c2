"""Several exports' figures to the actuals of complete periods, the daily rows and the evidence."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from kpixl.errors import IntakeError, Issue
from kpixl.intake.apply import Metric, SourceFigures
from kpixl.intake.issues import COLUMN_NEEDED, COLUMN_TWICE, NOTHING_TO_INGEST
from kpixl.model import Contract

Value = Decimal | int | None


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """One contract period as far as the exports cover it."""

    index: int
    label: str
    first: dt.date
    last: dt.date
    days_with_data: int
    complete: bool
    values: dict[str, Value]


@dataclass(frozen=True)
class Ingested:
    """Everything ``kpixl ingest`` writes: actuals, daily rows and evidence, before formatting."""

    contract: str
    through: dt.date
    columns: tuple[str, ...]
    sums: frozenset[str]
    sources: tuple[SourceFigures, ...]
    periods: tuple[PeriodFigures, ...]
    daily: tuple[tuple[dt.date, dict[str, Value]], ...]
    outside: int

    @property
    def complete(self) -> tuple[PeriodFigures, ...]:
        """The periods written to the actuals CSV."""
        return tuple(p for p in self.periods if p.complete)

    @property
    def partial(self) -> tuple[PeriodFigures, ...]:
        """The periods the data do not cover to their end."""
        return tuple(p for p in self.periods if not p.complete)


def period_bounds(contract: Contract, index: int) -> tuple[dt.date, dt.date]:
    """First and last calendar day of contract period ``index`` (1-based)."""
    months = 1 if contract.period == "month" else 3
    first_month = (contract.start.month - 1) // months * months
    month0 = contract.start.year * 12 + first_month + (index - 1) * months
    first = dt.date(month0 // 12, month0 % 12 + 1, 1)
    after = month0 + months
    return first, dt.date(after // 12, after % 12 + 1, 1) - dt.timedelta(days=1)


def combine(
    contract: Contract, sources: list[SourceFigures], through: dt.date | None = None
) -> Ingested:
    """Roll the sources' days up into the contract's periods, through the date the data cover.

    Args:
        contract: the contract whose periods and needed columns apply.
        sources: one per export, in the order given.
        through: the last day the data are complete; default the earliest of the last dates.

    Returns:
        The periods from the first date to ``through`` and one daily row per calendar day.

    Raises:
        IntakeError: a column produced twice (KX245), a needed column no source gives (KX246),
            an export with no row that counts or a ``through`` before the data (KX247).
    """
    metrics, issues = _metrics(contract, sources)
    empty = [s for s in sources if s.last_date is None]
    issues += [
        Issue(s.file, NOTHING_TO_INGEST, "has no row that counts: nothing to ingest") for s in empty
    ]
    if issues:
        raise IntakeError.from_issues(issues)
    first = min(s.first_date for s in sources if s.first_date is not None)
    if through is None:
        through = min(s.last_date for s in sources if s.last_date is not None)
    if through < first:
        message = f"--through {through} is before the first date of the data ({first})"
        raise IntakeError.from_issues([Issue("--through", NOTHING_TO_INGEST, message)])
    columns = _column_order(contract, metrics)
    days = [first + dt.timedelta(days=n) for n in range((through - first).days + 1)]
    dated = set().union(*(s.dates for s in sources))
    periods = []
    for index in range(1, contract.periods + 1):
        start, end = period_bounds(contract, index)
        if end < first or start > through:
            continue
        covered = [day for day in days if start <= day <= end]
        periods.append(
            PeriodFigures(
                index,
                contract.period_label(index),
                start,
                end,
                sum(1 for day in covered if day in dated),
                end <= through,
                {name: metrics[name].over(covered) for name in columns},
            )
        )
    daily = tuple((day, {name: metrics[name].over([day]) for name in columns}) for day in days)
    start_1, _ = period_bounds(contract, 1)
    _, end_n = period_bounds(contract, contract.periods)
    outside = sum(1 for day in dated if not start_1 <= day <= end_n and day <= through)
    sums = frozenset(name for name in columns if metrics[name].rollup in ("sum", "count_distinct"))
    return Ingested(
        contract.id, through, columns, sums, tuple(sources), tuple(periods), daily, outside
    )


def _metrics(
    contract: Contract, sources: list[SourceFigures]
) -> tuple[dict[str, Metric], list[Issue]]:
    metrics: dict[str, Metric] = {}
    owner: dict[str, str] = {}
    issues: list[Issue] = []
    for source in sources:
        for name, metric in source.metrics.items():
            if name in owner:
                message = (
                    f"column {name!r} comes from two sources: {owner[name]} and "
                    f"{source.file} (mapping {source.mapping}); give it once"
                )
                issues.append(Issue(source.file, COLUMN_TWICE, message))
                continue
            owner[name] = f"{source.file} (mapping {source.mapping})"
            metrics[name] = metric
    for column, who in contract.required_columns.items():
        if column not in metrics:
            given = ", ".join(sorted(metrics)) or "nothing"
            message = f"column {column!r}, needed by {who}, comes from no source (given: {given})"
            issues.append(Issue(contract.id, COLUMN_NEEDED, message))
    return metrics, issues


def _column_order(contract: Contract, metrics: dict[str, Metric]) -> tuple[str, ...]:
    """The contract's columns first, in its order, then the other produced ones as given."""
    needed = list(contract.required_columns)
    return tuple(needed + [name for name in metrics if name not in needed])
