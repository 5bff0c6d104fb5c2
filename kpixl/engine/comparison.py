"""Quotes compared on the same business outcomes (SPEC §10): fee per month over each term.

Every quote is settled by :func:`kpixl.engine.settle.settle` over its whole term with the same
outcome in every period (monthly values, scaled to quarters by the SPEC §9 column kinds), so
ramps, staged targets, caps and cumulative true-ups count exactly as they would in a real year.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kpixl.actuals import PeriodData
from kpixl.engine.outcomes import (
    CODE_OUTCOMES,
    COMMISSIONED_COLUMN,
    ColumnKind,
    Outcome,
    column_kinds,
    level_outcomes,
    months_per_period,
    period_values,
    zero_denominator_contract,
)
from kpixl.engine.results import Settlement
from kpixl.engine.rounding import excel_round
from kpixl.engine.settle import settle
from kpixl.errors import ContractError, Issue
from kpixl.model import Contract

CODE_CANNOT_COMPARE = "KX126"
BASIS = "per_month_over_term"

__all__ = [
    "BASIS",
    "CODE_CANNOT_COMPARE",
    "Comparison",
    "Crossing",
    "Fee",
    "Outcome",
    "ScenarioComparison",
    "compare",
    "crossings_of",
    "monthly_fee",
]


@dataclass(frozen=True, slots=True)
class Fee:
    """One quote's fee on one outcome, per month over its whole term."""

    contract: str
    base: float
    bonus: float
    total: float
    share_of_revenue: float | None

    def to_dict(self) -> dict[str, Any]:
        """The SPEC §10 ``fees`` entry."""
        return {
            "contract": self.contract,
            "base": self.base,
            "bonus": self.bonus,
            "total": self.total,
            "share_of_revenue": self.share_of_revenue,
        }


@dataclass(frozen=True, slots=True)
class ScenarioComparison:
    """One outcome and what every quote costs per month on it."""

    name: str
    outcome: tuple[tuple[str, float], ...]
    fees: tuple[Fee, ...]
    cheapest: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The SPEC §10 ``scenarios`` entry."""
        return {
            "name": self.name,
            "outcome": dict(self.outcome),
            "fees": [fee.to_dict() for fee in self.fees],
            "cheapest": list(self.cheapest),
        }


@dataclass(frozen=True, slots=True)
class Crossing:
    """Where the cheapest quote changes between two neighbouring outcomes along revenue.

    ``revenue`` is where the two quotes' monthly fees meet on the straight line between the
    two outcomes (every column moving in proportion), ``total`` their fee there.
    """

    after: str
    before: str
    first: str
    second: str
    revenue: float
    total: float


@dataclass(frozen=True)
class Comparison:
    """Quotes priced on the same outcomes, per month over each quote's term."""

    names: tuple[str, ...]
    currency: str
    decimals: int
    revenue_column: str | None
    scenarios: tuple[ScenarioComparison, ...]
    crossings: tuple[Crossing, ...]
    outcomes_from: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Exactly the SPEC §10 ``--json`` document."""
        return {
            "currency": self.currency,
            "basis": BASIS,
            "scenarios": [scenario.to_dict() for scenario in self.scenarios],
        }


def compare(contracts: Sequence[Contract], outcomes: Sequence[Outcome] | None = None) -> Comparison:
    """Price every quote on the same outcomes (SPEC §10).

    Args:
        contracts: two or more contracts in one currency.
        outcomes: monthly outcomes, one per scenario; default: the first quote's own scenario
            levels (:func:`kpixl.engine.outcomes.level_outcomes`).

    Returns:
        Every quote's monthly base, bonus and total on every outcome, the cheapest per outcome,
        and where the cheapest changes along the revenue column.

    Raises:
        ContractError: fewer than two quotes, mixed currencies, or a column a quote needs that
            the outcomes lack (KX126).
    """
    _check_comparable(contracts)
    names = _names(contracts)
    notes: list[str] = []
    if outcomes is None:
        outcomes, notes = level_outcomes(contracts[0])
        source = f"the scenario levels of {names[0]}"
    else:
        source = "--outcomes"
    _check_columns(contracts, names, outcomes)
    kinds = [column_kinds(c) for c in contracts]
    rows = []
    for outcome in outcomes:
        fees = tuple(
            monthly_fee(contract, name, outcome.values, kind)
            for contract, name, kind in zip(contracts, names, kinds, strict=True)
        )
        low = min(fee.total for fee in fees)
        cheapest = tuple(fee.contract for fee in fees if fee.total == low)
        rows.append(ScenarioComparison(outcome.name, outcome.values, fees, cheapest))
    revenue = _revenue_column(contracts)
    crossings = () if revenue is None else tuple(crossings_of(rows, revenue))
    return Comparison(
        names,
        contracts[0].currency,
        contracts[0].decimals,
        revenue,
        tuple(rows),
        crossings,
        source,
        tuple(notes),
    )


def monthly_fee(
    contract: Contract,
    name: str,
    outcome: Sequence[tuple[str, float]],
    kinds: Mapping[str, ColumnKind] | None = None,
) -> Fee:
    """One quote's fee per month over its term when every period has the same outcome.

    Args:
        contract: the quote.
        name: the id reported for it.
        outcome: monthly values of (at least) every column the quote reads.
        kinds: the quote's column kinds; default :func:`column_kinds`.

    Returns:
        ROUND(Σₚ total_p / (periods · months per period), d), likewise base and bonus, and
        the monthly total over the monthly outcome of the revenue KPI's column.
    """
    settlement = settle_outcome(contract, outcome, kinds)
    months = contract.periods * months_per_period(contract)
    d = contract.decimals
    periods = settlement.periods

    def per_month(values: Sequence[float]) -> float:
        return excel_round(math.fsum(values) / months, d)

    total = per_month([p.total for p in periods])
    values = dict(outcome)
    revenue = _own_revenue_column(contract)
    sales = None if revenue is None else values.get(revenue)
    return Fee(
        contract=name,
        base=per_month([p.base for p in periods]),
        bonus=per_month([p.bonus for p in periods]),
        total=total,
        share_of_revenue=None if not sales else total / sales,
    )


def settle_outcome(
    contract: Contract,
    outcome: Sequence[tuple[str, float]],
    kinds: Mapping[str, ColumnKind] | None = None,
) -> Settlement:
    """Settle every period of a contract on the same monthly outcome (SPEC §5 through §10).

    A ratio whose denominator is 0 in the outcome has no value: its KPI attains 0 and its
    guardrail counts as breached (:func:`zero_denominator_contract`). Without a
    ``person_days`` column, the quote's own required person-days are delivered.

    Args:
        contract: the quote.
        outcome: monthly column values.
        kinds: the quote's column kinds; default :func:`column_kinds`.

    Returns:
        The settlement of periods 1..n.
    """
    kinds = column_kinds(contract) if kinds is None else kinds
    values = period_values(contract, dict(outcome), kinds)
    settled, extra = zero_denominator_contract(contract, values)
    n = contract.periods
    columns = {
        column: np.asarray(extra[column]) if column in extra else np.full(n, values[column])
        for column in settled.required_columns
    }
    return settle(settled, PeriodData(tuple(range(1, n + 1)), columns))


def crossings_of(rows: Sequence[ScenarioComparison], revenue: str) -> list[Crossing]:
    """Where the cheapest quote changes between outcomes ordered by the revenue column.

    Between two neighbouring outcomes (by revenue) whose cheapest quotes differ, both quotes'
    monthly fees are taken as straight lines in revenue, and the crossing is where the lines
    meet: r = r₀ + (r₁ − r₀) · Δ₀ / (Δ₀ − Δ₁), Δ = fee of the new cheapest − fee of the old.
    Fees are piecewise (thresholds, tiers, caps), so this is an estimate between two
    settled points; add outcomes around it to pin it down.

    Args:
        rows: the compared outcomes.
        revenue: the column ordering them.

    Returns:
        One crossing per change of the (first) cheapest quote; outcomes without the revenue
        column are skipped.
    """
    ordered = sorted(
        (row for row in rows if revenue in dict(row.outcome)),
        key=lambda row: dict(row.outcome)[revenue],
    )
    found = []
    for before, after in zip(ordered, ordered[1:], strict=False):
        old, new = before.cheapest[0], after.cheapest[0]
        if old in after.cheapest or new in before.cheapest:
            continue
        r0, r1 = dict(before.outcome)[revenue], dict(after.outcome)[revenue]
        if r0 == r1:
            continue
        f0 = {fee.contract: fee.total for fee in before.fees}
        f1 = {fee.contract: fee.total for fee in after.fees}
        d0, d1 = f0[new] - f0[old], f1[new] - f1[old]
        t = d0 / (d0 - d1)  # d0 > 0 ≥ d1 here: the new one was dearer, then not
        found.append(
            Crossing(
                before=before.name,
                after=after.name,
                first=old,
                second=new,
                revenue=r0 + t * (r1 - r0),
                total=f0[old] + t * (f1[old] - f0[old]),
            )
        )
    return found


def _check_comparable(contracts: Sequence[Contract]) -> None:
    if len(contracts) < 2:
        issue = Issue("compare", CODE_CANNOT_COMPARE, "give at least two quotes to compare")
        raise ContractError.from_issues([issue])
    currencies = sorted({c.currency for c in contracts})
    if len(currencies) > 1:
        listed = ", ".join(f"{c.id} in {c.currency}" for c in contracts)
        message = f"quotes in different currencies cannot be compared ({listed})"
        raise ContractError.from_issues([Issue("compare", CODE_CANNOT_COMPARE, message)])


def _check_columns(
    contracts: Sequence[Contract], names: Sequence[str], outcomes: Sequence[Outcome]
) -> None:
    issues = []
    for contract, name in zip(contracts, names, strict=True):
        for column, who in contract.required_columns.items():
            if column == COMMISSIONED_COLUMN and contract.min_input is not None:
                continue  # the quote's own person-days, unless the outcomes say otherwise
            missing = [o.name for o in outcomes if column not in dict(o.values)]
            if missing:
                issues.append(
                    Issue(
                        f"compare: quote {name}",
                        CODE_CANNOT_COMPARE,
                        f"needs column {column!r} ({who}), which the outcomes do not give "
                        f"(scenarios {', '.join(missing)}); pass --outcomes CSV with a column "
                        f"{column!r}",
                    )
                )
        for column, why in contract.non_negative_columns.items():
            for outcome in outcomes:
                value = dict(outcome.values).get(column)
                if value is not None and value < 0:
                    issues.append(
                        Issue(
                            f"compare: scenario {outcome.name}, column {column}",
                            CODE_OUTCOMES,
                            f"is negative ({value:g}); {why} of quote {name}",
                        )
                    )
    if issues:
        raise ContractError.from_issues(issues)


def _own_revenue_column(contract: Contract) -> str | None:
    """The column of the revenue KPI, or None without one (or when it is a ratio)."""
    if contract.revenue_kpi is None:
        return None
    kpi = contract.kpi(contract.revenue_kpi)
    return None if kpi.ratio is not None else kpi.source_column


def _revenue_column(contracts: Sequence[Contract]) -> str | None:
    """The column crossings are placed along: the first quote's revenue column that has one."""
    for contract in contracts:
        column = _own_revenue_column(contract)
        if column is not None:
            return column
    return None


def _names(contracts: Sequence[Contract]) -> tuple[str, ...]:
    """Each quote's id, made unique with its position when two quotes share one."""
    ids = [c.id for c in contracts]
    return tuple(cid if ids.count(cid) == 1 else f"{cid}#{i + 1}" for i, cid in enumerate(ids))
