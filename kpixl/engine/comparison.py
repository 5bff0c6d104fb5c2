"""Quotes side by side (SPEC §6): total fee per level on one GMV basis, cheapest, crossings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kpixl.engine.scenarios import revenue_target, scenarios
from kpixl.errors import ContractError, Issue
from kpixl.model import Contract
from kpixl.ratecard import DEFAULT_LEVELS

CODE_CANNOT_COMPARE = "KX126"


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One attainment level: every quote's fee and effective rate on the common GMV."""

    level: float
    gmv: float | None
    totals: tuple[float, ...]
    rates: tuple[float | None, ...]
    cheapest: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Crossing:
    """Where two quotes' fee curves cross, by straight-line interpolation between levels."""

    first: str
    second: str
    level: float
    total: float


@dataclass(frozen=True)
class Comparison:
    """Quotes compared on the same levels and the same GMV basis (the first quote's)."""

    names: tuple[str, ...]
    currency: str
    gmv_basis: float | None
    rows: tuple[ComparisonRow, ...]
    crossings: tuple[Crossing, ...]

    def to_dict(self) -> dict[str, Any]:
        """The comparison as a JSON-ready mapping."""
        return {
            "quotes": list(self.names),
            "currency": self.currency,
            "gmv_basis": self.gmv_basis,
            "levels": [
                {
                    "level": row.level,
                    "gmv": row.gmv,
                    "totals": dict(zip(self.names, row.totals, strict=True)),
                    "rates": dict(zip(self.names, row.rates, strict=True)),
                    "cheapest": list(row.cheapest),
                }
                for row in self.rows
            ],
            "crossings": [
                {"first": c.first, "second": c.second, "level": c.level, "total": c.total}
                for c in self.crossings
            ],
        }


def compare(contracts: Sequence[Contract], levels: Sequence[float] | None = None) -> Comparison:
    """Compare quotes at the same attainment levels on the first quote's GMV.

    Each quote's fee at level L is its own period-1 ``fee(L)`` (SPEC §6 scenarios); GMV(L) is
    the first quote's revenue target · L for all of them, so the effective rates share one
    denominator.

    Args:
        contracts: two or more contracts in one currency.
        levels: attainment levels; default 0, 0.5, 0.8, 1, 1.2, 1.5.

    Returns:
        The comparison: one row per level, and every crossing of two fee curves.

    Raises:
        ContractError: fewer than two quotes, or quotes in different currencies (KX126).
    """
    _check_comparable(contracts)
    levels = tuple(DEFAULT_LEVELS if levels is None else levels)
    names = _names(contracts)
    basis = revenue_target(contracts[0])
    curves = [[row.total for row in scenarios(c, levels)] for c in contracts]
    rows = []
    for i, level in enumerate(levels):
        totals = tuple(curve[i] for curve in curves)
        gmv = None if basis is None else basis * level
        rates = tuple(None if not gmv else total / gmv for total in totals)
        low = min(totals)
        cheapest = tuple(name for name, total in zip(names, totals, strict=True) if total == low)
        rows.append(ComparisonRow(level, gmv, totals, rates, cheapest))
    crossings = [
        crossing
        for a in range(len(contracts))
        for b in range(a + 1, len(contracts))
        for crossing in crossings_of(names[a], names[b], levels, curves[a], curves[b])
    ]
    return Comparison(names, contracts[0].currency, basis, tuple(rows), tuple(crossings))


def crossings_of(
    first: str, second: str, levels: Sequence[float], a: Sequence[float], b: Sequence[float]
) -> list[Crossing]:
    """Every level where curve ``a`` and curve ``b`` change order.

    Args:
        first: name of curve ``a``.
        second: name of curve ``b``.
        levels: ascending levels.
        a: fee of the first quote at each level.
        b: fee of the second quote at each level.

    Returns:
        One crossing per change of sign of a − b; exact where the curves meet at a level,
        linearly interpolated where they cross between two levels.
    """
    found = []
    last: int | None = None  # index of the last level where the curves differ
    for i in range(len(levels)):
        diff = a[i] - b[i]
        if diff == 0:
            continue
        if last is not None and (a[last] - b[last]) * diff < 0:
            if i - last > 1:  # they met exactly at the levels in between
                meet = last + 1
                found.append(Crossing(first, second, levels[meet], a[meet]))
            else:
                found.append(_interpolate(first, second, levels, a, b, last))
        last = i
    return found


def _interpolate(
    first: str,
    second: str,
    levels: Sequence[float],
    a: Sequence[float],
    b: Sequence[float],
    i: int,
) -> Crossing:
    d0, d1 = a[i] - b[i], a[i + 1] - b[i + 1]
    t = d0 / (d0 - d1)
    level = levels[i] + t * (levels[i + 1] - levels[i])
    return Crossing(first, second, level, a[i] + t * (a[i + 1] - a[i]))


def _check_comparable(contracts: Sequence[Contract]) -> None:
    if len(contracts) < 2:
        issue = Issue("compare", CODE_CANNOT_COMPARE, "give at least two quotes to compare")
        raise ContractError.from_issues([issue])
    currencies = sorted({c.currency for c in contracts})
    if len(currencies) > 1:
        message = f"quotes in different currencies ({', '.join(currencies)}) cannot be compared"
        raise ContractError.from_issues([Issue("compare", CODE_CANNOT_COMPARE, message)])


def _names(contracts: Sequence[Contract]) -> tuple[str, ...]:
    """Each quote's id, made unique with its position when two quotes share one."""
    ids = [c.id for c in contracts]
    return tuple(cid if ids.count(cid) == 1 else f"{cid}#{i + 1}" for i, cid in enumerate(ids))
