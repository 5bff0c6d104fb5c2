"""Settle many contracts at once: the arithmetic of ``settle`` on whole blocks of contracts.

Contracts that settle the same periods of the same term, in the same mode and currency decimals,
form a block;
every KPI of every contract in a block is one row of a (rows × periods) array, and each step of
SPEC §5 runs once per block with the very operations ``settle`` applies per contract, in the same
order, so every figure is the same double. Sums across KPIs and guardrails run KPI by KPI as in
``settle``; caps run period by period across the block. Results are kept as arrays and turned
into ``Settlement`` objects only when asked for (``result[i]``), so a portfolio summary never pays
for a million small objects.

Fallback: a contract whose figures are not all finite (a zero target, a baseline equal to its
target, a zero denominator) is settled by ``settle`` itself, and so is a contract without any
settled period. Nothing else falls back: ratios, baselines, ramps, every curve mode, thresholds
and caps, guardrails, cumulative settlement with or without clawback, contract and period caps,
minimum input and the exit clause are all on the fast path.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt

from kpixl.actuals import Actuals, Adjustments, PeriodData, resolve
from kpixl.engine._arrays import FloatArray
from kpixl.engine.money import contract_total
from kpixl.engine.results import PeriodTable, Settlement, Totals
from kpixl.engine.rounding import excel_round, round_array
from kpixl.engine.settle import settle
from kpixl.model import Aggregate, Contract, Guardrail, Kpi

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]
_AGGREGATES: tuple[Aggregate, ...] = ("sum", "mean", "last")


def settle_many(
    contracts: Sequence[Contract],
    actuals: Sequence[Actuals | PeriodData],
    adjustments: Sequence[Adjustments | None] | None = None,
) -> Settlements:
    """Settle many contracts; ``result[i] == settle(contracts[i], actuals[i], adjustments[i])``.

    Args:
        contracts: the contracts.
        actuals: one per contract, as read (checked here) or already resolved.
        adjustments: one per contract (or None for none at all).

    Returns:
        The settlements, in the order of ``contracts``.

    Raises:
        ActualsError: the first contract whose actuals or adjustments do not fit it.
        ValueError: the sequences differ in length.
    """
    if len(actuals) != len(contracts) or (
        adjustments is not None and len(adjustments) != len(contracts)
    ):
        raise ValueError("settle_many needs one actuals (and adjustments) per contract")
    data = [
        item if isinstance(item, PeriodData)
        else resolve(contract, item, None if adjustments is None else adjustments[i])
        for i, (contract, item) in enumerate(zip(contracts, actuals, strict=True))
    ]  # fmt: skip
    blocks: dict[tuple[tuple[int, ...], str, int, int], list[int]] = {}
    for i, (contract, resolved) in enumerate(zip(contracts, data, strict=True)):
        key = (resolved.indices, contract.settlement, contract.decimals, contract.periods)
        blocks.setdefault(key, []).append(i)
    where: list[tuple[_Block, int] | Settlement] = [None] * len(contracts)  # type: ignore[list-item]
    # Quiet about NaN and inf: a contract with any is settled by settle() itself.
    with np.errstate(divide="ignore", invalid="ignore"):
        for (indices, *_), members in blocks.items():
            if not indices:
                for i in members:
                    where[i] = settle(contracts[i], data[i])
                continue
            block = _Block([contracts[i] for i in members], [data[i] for i in members])
            for j, i in enumerate(members):
                where[i] = settle(contracts[i], data[i]) if block.fallback[j] else (block, j)
    return Settlements(where)


class Settlements(Sequence[Settlement]):
    """The settlements of ``settle_many``: figures kept in arrays, objects made on access."""

    def __init__(self, where: list[tuple[_Block, int] | Settlement]) -> None:
        self._where = where

    def __len__(self) -> int:
        return len(self._where)

    @overload
    def __getitem__(self, index: int) -> Settlement: ...

    @overload
    def __getitem__(self, index: slice) -> list[Settlement]: ...

    def __getitem__(self, index: int | slice) -> Settlement | list[Settlement]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        found = self._where[index]
        if isinstance(found, Settlement):
            return found
        block, j = found
        return block.settlement(j)

    def __iter__(self) -> Iterator[Settlement]:
        for i in range(len(self)):
            yield self[i]

    @property
    def fallback(self) -> tuple[int, ...]:
        """Positions of the contracts settled by ``settle`` itself (see the module's notes)."""
        return tuple(i for i, found in enumerate(self._where) if isinstance(found, Settlement))


@dataclass(frozen=True)
class _Figures:
    actual: FloatArray
    target: FloatArray
    attainment: FloatArray
    factor: FloatArray
    payout: FloatArray
    #: Baselines as the attainment used them (NaN for a KPI without one).
    baseline: FloatArray


class _Rows:
    """Every KPI (or guardrail) of a block as one row: its owner, place and measured values."""

    def __init__(self, groups: Sequence[Sequence[Kpi | Guardrail]], data: list[PeriodData]) -> None:
        periods = len(data[0].indices)
        placeholder = np.zeros(periods)
        owner: list[int] = []
        position: list[int] = []
        values: list[FloatArray] = []
        aggregate: list[int] = []
        ratios: list[int] = []
        numerators: list[FloatArray] = []
        denominators: list[FloatArray] = []
        items: list[Kpi | Guardrail] = []
        for j, (group, resolved) in enumerate(zip(groups, data, strict=True)):
            columns = resolved.values
            for k, item in enumerate(group):
                if item.ratio is None:
                    values.append(columns[item.source_column])
                else:
                    ratios.append(len(items))
                    numerators.append(columns[item.ratio[0]])
                    denominators.append(columns[item.ratio[1]])
                    values.append(placeholder)
                items.append(item)
                owner.append(j)
                position.append(k)
                aggregate.append(_AGGREGATES.index(item.rolls_up))
        self.items = items
        self.owner = np.asarray(owner, dtype=np.intp)
        self.position = np.asarray(position, dtype=np.intp)
        self.aggregate = np.asarray(aggregate, dtype=np.intp)
        self.values = np.stack(values) if values else np.empty((0, periods))
        self.ratio = np.zeros(len(items), dtype=np.bool_)
        self.ratio[ratios] = True
        self.numerator = np.stack(numerators) if numerators else None
        self.denominator = np.stack(denominators) if denominators else None

    def measured(self, *, to_date: bool) -> FloatArray:
        """Each row's value per settled period, or to date (``settle._measured``)."""
        value = self.values.copy()
        if self.numerator is not None and self.denominator is not None:
            numerator, denominator = self.numerator, self.denominator
            if to_date:
                numerator = np.cumsum(numerator, axis=1)
                denominator = np.cumsum(denominator, axis=1)
            value[self.ratio] = numerator / denominator
        if to_date:
            plain = ~self.ratio
            value[plain] = _roll_up(value[plain], self.aggregate[plain])
        return value

    def sum_by_position(self, rows: FloatArray, n: int, start: float) -> FloatArray:
        """Per owner, ``start (+ or ×) row_0 (+ or ×) row_1 ...`` in item order, as ``settle``."""
        total = np.full((n, rows.shape[1]), start)
        for k in range(int(self.position.max(initial=-1)) + 1):
            chosen = self.position == k
            owners = self.owner[chosen]
            if start == 0.0:
                total[owners] = total[owners] + rows[chosen]
            else:
                total[owners] = total[owners] * rows[chosen]
        return total


def _roll_up(values: FloatArray, aggregate: IntArray) -> FloatArray:
    """``settle.roll_up`` on every row by its own aggregate (0 sum, 1 mean, 2 last)."""
    out = values.copy()
    sums = aggregate == 0
    means = aggregate == 1
    if sums.any():
        out[sums] = np.cumsum(values[sums], axis=1)
    if means.any():
        out[means] = np.cumsum(values[means], axis=1) / np.arange(1, values.shape[1] + 1)
    return out


class _KpiTable:
    """What a block's KPI rows take from the contracts, gathered once: weights, targets, curves."""

    def __init__(self, contracts: list[Contract], rows: _Rows, indices: tuple[int, ...]) -> None:
        kpis: list[Kpi] = rows.items  # type: ignore[assignment]
        settled = np.asarray(indices, dtype=np.intp) - 1
        self.weight = np.asarray([kpi.weight for kpi in kpis], dtype=np.float64)
        self.cap = np.asarray(
            [np.inf if kpi.attainment_cap is None else kpi.attainment_cap for kpi in kpis]
        )[:, None]
        self.higher = np.asarray([kpi.direction == "higher" for kpi in kpis], dtype=np.bool_)
        self.has_base = np.asarray([kpi.baseline is not None for kpi in kpis], dtype=np.bool_)
        periods = contracts[0].periods  # the same for every contract of a block
        self.target = np.asarray(
            [kpi.effective_targets(periods) for kpi in kpis],
            dtype=np.float64,
        ).reshape(len(kpis), periods)[:, settled]
        self.baseline = np.full(self.target.shape, np.nan)
        for r in np.flatnonzero(self.has_base).tolist():
            self.baseline[r] = np.asarray(kpis[r].baselines(periods))[settled]
        shapes: dict[tuple[str, int], list[int]] = {}
        tiers: dict[tuple[str, int], list[tuple[float, ...]]] = {}
        rates: dict[tuple[str, int], list[tuple[float, ...]]] = {}
        threshold, factor_cap = [], []
        for r, kpi in enumerate(kpis):
            curve = kpi.curve
            threshold.append(-np.inf if kpi.threshold is None else kpi.threshold)
            factor_cap.append(np.inf if kpi.factor_cap is None else kpi.factor_cap)
            if curve is None or not curve.tiers:
                continue  # f = a (a linear curve without tiers too)
            key = (curve.mode, len(curve.tiers))
            shapes.setdefault(key, []).append(r)
            tiers.setdefault(key, []).append(tuple(t.from_ for t in curve.tiers))
            rates.setdefault(key, []).append(tuple(t.rate for t in curve.tiers))
        self.curves = [
            (mode, count, np.asarray(members, dtype=np.intp),
             np.asarray(tiers[(mode, count)], dtype=np.float64),
             np.asarray(rates[(mode, count)], dtype=np.float64))
            for (mode, count), members in shapes.items()
        ]  # fmt: skip
        self.threshold = np.asarray(threshold, dtype=np.float64)[:, None]
        self.factor_cap = np.asarray(factor_cap, dtype=np.float64)[:, None]


class _Block:
    """Contracts sharing settled periods, settlement mode and decimals, settled together."""

    def __init__(self, contracts: list[Contract], data: list[PeriodData]) -> None:
        self.contracts = contracts
        self.data = data
        first = contracts[0]
        self.indices = data[0].indices
        self.cumulative = first.settlement == "cumulative"
        self.d = first.decimals
        n, periods = len(contracts), len(self.indices)
        self.index = np.asarray(self.indices, dtype=np.float64)
        pools = np.asarray([c.fee.pool for c in contracts], dtype=np.float64)
        if self.cumulative:
            pool = pools[:, None] * self.index[None, :]
        else:
            pool = np.repeat(pools[:, None], periods, axis=1)
        rows = _Rows([c.kpis for c in contracts], data)
        table = _KpiTable(contracts, rows, self.indices)
        self.start = np.searchsorted(rows.owner, np.arange(n + 1))
        figures = self._figures(rows, table, pool, to_date=self.cumulative)
        if self.cumulative:
            own = self._attainment(
                rows.measured(to_date=False), table.target, table.baseline, table
            )
        else:
            own = figures.attainment
        self.figures = figures
        self.own = own
        self.w = rows.sum_by_position(table.weight[:, None] * own, n, 0.0)
        self.m = self._guardrails(n, periods)
        payouts = rows.sum_by_position(figures.payout, n, 0.0)
        self.uncapped = round_array(payouts * self.m, self.d)
        self.bonus, self.paid = self._bonuses()
        self.miss, self.eligible = self._exit_flags()
        self.base = self._bases()
        self.total = round_array(self.base + self.bonus, self.d)
        finite = np.ones(n, dtype=np.bool_)
        for matrix in (*_matrices(figures), own):
            finite &= np.logical_and.reduceat(np.isfinite(matrix).all(axis=1), self.start[:-1])
        for matrix in (self.w, self.m, self.uncapped, self.total):
            finite &= np.isfinite(matrix).all(axis=1)
        self.fallback: list[bool] = (~finite).tolist()

    def _figures(
        self, rows: _Rows, table: _KpiTable, pool: FloatArray, *, to_date: bool
    ) -> _Figures:
        actual = rows.measured(to_date=to_date)
        target, baseline = table.target, table.baseline
        if to_date:
            target = _roll_up(target, rows.aggregate)
            if table.has_base.any():
                baseline = baseline.copy()
                chosen = table.has_base
                baseline[chosen] = _roll_up(baseline[chosen], rows.aggregate[chosen])
        a = self._attainment(actual, target, baseline, table)
        f = a.copy()  # no curve, or a linear curve without tiers: f = a
        for mode, count, members, x, r in table.curves:
            f[members] = _curve(mode, a[members], x, r, count)
        f = np.where(a < table.threshold, 0.0, f)
        f = np.minimum(f, table.factor_cap)
        payout = round_array(pool[rows.owner] * table.weight[:, None] * f, self.d)
        return _Figures(actual, target, a, f, payout, baseline)

    @staticmethod
    def _attainment(
        actual: FloatArray, target: FloatArray, baseline: FloatArray, table: _KpiTable
    ) -> FloatArray:
        """``attainment.attainment`` row by row (its four formulas), then the attainment cap."""
        a = np.empty(actual.shape)
        higher, has_base = table.higher, table.has_base
        with np.errstate(divide="ignore", invalid="ignore"):
            chosen = higher & ~has_base
            a[chosen] = actual[chosen] / target[chosen]
            chosen = higher & has_base
            b = baseline[chosen]
            a[chosen] = (actual[chosen] - b) / (target[chosen] - b)
            chosen = ~higher & ~has_base
            a[chosen] = 2.0 - actual[chosen] / target[chosen]
            chosen = ~higher & has_base
            b = baseline[chosen]
            a[chosen] = (b - actual[chosen]) / (b - target[chosen])
        a = np.maximum(a, 0.0)
        return np.asarray(np.minimum(a, table.cap), dtype=np.float64)

    def _guardrails(self, n: int, periods: int) -> FloatArray:
        """The product of every guardrail's multiplier, guardrail by guardrail as ``settle``."""
        if not any(c.guardrails for c in self.contracts):
            self.guard_values = np.empty((0, periods))
            self.guard_start = np.zeros(n + 1, dtype=np.intp)
            return np.ones((n, periods))
        rows = _Rows([c.guardrails for c in self.contracts], self.data)
        items: list[Guardrail] = rows.items  # type: ignore[assignment]
        value = rows.measured(to_date=self.cumulative)
        self.guard_values = value
        self.guard_start = np.searchsorted(rows.owner, np.arange(n + 1))
        bound = np.asarray([g.bound for g in items], dtype=np.float64)[:, None]
        held = np.empty(value.shape, dtype=np.bool_)
        ops = np.asarray([g.op for g in items])
        for op in (">=", ">", "<=", "<"):
            chosen = ops == op
            if not chosen.any():
                continue
            v, b = value[chosen], bound[chosen]
            if op == ">=":
                held[chosen] = v >= b
            elif op == ">":
                held[chosen] = v > b
            elif op == "<=":
                held[chosen] = v <= b
            else:
                held[chosen] = v < b
        breached = np.asarray([g.breach_multiplier for g in items], dtype=np.float64)[:, None]
        return rows.sum_by_position(np.where(held, 1.0, breached), n, 1.0)

    def _bonuses(self) -> tuple[FloatArray, FloatArray]:
        """``settle._bonuses`` period by period, every contract of the block at once."""
        d = self.d
        n, periods = self.uncapped.shape
        fees = [c.fee for c in self.contracts]
        has_period_cap = np.asarray([f.period_cap is not None for f in fees], dtype=np.bool_)
        period_cap = np.asarray([f.period_cap or 0.0 for f in fees], dtype=np.float64)
        has_cap = np.asarray([f.contract_cap is not None for f in fees], dtype=np.bool_)
        contract_cap = np.asarray([f.contract_cap or 0.0 for f in fees], dtype=np.float64)
        clawback = np.asarray([c.clawback for c in self.contracts], dtype=np.bool_)
        bonus = np.empty((n, periods))
        paid_through = np.empty((n, periods))
        self.to_date = np.full((n, periods), np.nan)
        paid = np.zeros(n)
        for i, p in enumerate(self.index.tolist()):
            amount = self.uncapped[:, i]
            cap = period_cap * p if self.cumulative else period_cap
            capped = np.where(has_period_cap & (cap < amount), cap, amount)  # min(amount, cap)
            before = np.zeros(n) if self.cumulative else paid
            left = contract_cap - before
            remaining = _round_where(np.where(left > 0.0, left, 0.0), has_cap, d)
            capped = np.where(has_cap & (remaining < capped), remaining, capped)
            this = round_array(capped, d)
            if self.cumulative:
                self.to_date[:, i] = this
                this = round_array(this - paid, d)
                this = np.where(clawback | (this > 0.0), this, 0.0)  # max(0.0, bonus)
            bonus[:, i] = this
            paid = round_array(paid + this, d)
            paid_through[:, i] = paid
        return bonus, paid_through

    def _exit_flags(self) -> tuple[BoolArray, BoolArray]:
        n, periods = self.uncapped.shape
        miss = np.zeros((n, periods), dtype=np.bool_)
        eligible = np.zeros((n, periods), dtype=np.bool_)
        self.streak = np.zeros((n, periods), dtype=np.intp)
        exits = [(j, c.exit) for j, c in enumerate(self.contracts) if c.exit is not None]
        if not exits:
            return miss, eligible
        members = [j for j, _ in exits]
        chosen = np.asarray(members, dtype=np.intp)
        threshold = np.asarray([clause.threshold for _, clause in exits])
        consecutive = np.asarray([clause.consecutive for _, clause in exits])
        # Unsettled periods between settled ones are not misses: they break a streak.
        series = np.full((len(members), self.indices[-1]), np.nan)
        series[:, np.asarray(self.indices) - 1] = self.w[chosen]
        streak = np.zeros(len(members), dtype=np.intp)
        all_miss = series < threshold[:, None]
        all_eligible = np.zeros(series.shape, dtype=np.bool_)
        all_streaks = np.zeros(series.shape, dtype=np.intp)
        for t in range(series.shape[1]):
            streak = np.where(all_miss[:, t], streak + 1, 0)
            all_streaks[:, t] = streak
            all_eligible[:, t] = streak >= consecutive
        settled = np.asarray(self.indices, dtype=np.intp) - 1
        miss[chosen] = all_miss[:, settled]
        eligible[chosen] = all_eligible[:, settled]
        self.streak[chosen] = all_streaks[:, settled]
        return miss, eligible

    def _bases(self) -> FloatArray:
        n, periods = self.uncapped.shape
        d = self.d
        base = np.empty((n, periods))
        for j, contract in enumerate(self.contracts):
            if contract.min_input is None:
                base[j] = excel_round(contract.fee.base, d)
        minimum = [
            (j, c.min_input) for j, c in enumerate(self.contracts) if c.min_input is not None
        ]
        if minimum:
            prorated = [j for j, _ in minimum]
            days = np.stack([self.data[j].values["person_days"] for j in prorated])
            required = np.asarray([rule.person_days for _, rule in minimum])
            fee = np.asarray([self.contracts[j].fee.base for j in prorated], dtype=np.float64)
            share = np.minimum(1.0, days / required[:, None])
            base[prorated] = round_array(fee[:, None] * share, d)
        return base

    def settlement(self, j: int) -> Settlement:
        """The ``Settlement`` object of the block's contract ``j``."""
        contract = self.contracts[j]
        rows = slice(int(self.start[j]), int(self.start[j + 1]))
        figures = self.figures
        guards = self.guard_values[int(self.guard_start[j]) : int(self.guard_start[j + 1])]
        table = PeriodTable(
            actual=figures.actual[rows].tolist(),
            target=figures.target[rows].tolist(),
            attainment=figures.attainment[rows].tolist(),
            factor=figures.factor[rows].tolist(),
            payout=figures.payout[rows].tolist(),
            weighted=self.w[j].tolist(),
            multiplier=self.m[j].tolist(),
            uncapped=self.uncapped[j].tolist(),
            bonus=self.bonus[j].tolist(),
            base=self.base[j].tolist(),
            total=self.total[j].tolist(),
            miss=self.miss[j].tolist(),
            eligible=self.eligible[j].tolist(),
            paid=self.paid[j].tolist(),
            streak=self.streak[j].tolist(),
            to_date=self.to_date[j].tolist() if self.cumulative else [None] * len(self.indices),
            baselines=figures.baseline[rows].tolist(),
            has_baseline=[kpi.baseline is not None for kpi in contract.kpis],
            own=self.own[rows].tolist(),
            guards=guards.tolist(),
        )
        periods = table.rows(self.indices, contract.period_labels, [k.code for k in contract.kpis])
        d = self.d
        totals_row = Totals(
            base=contract_total(table.base, d),
            bonus=contract_total(table.bonus, d),
            total=contract_total(table.total, d),
        )
        return Settlement(contract.id, contract.currency, d, contract.settlement, periods,
                          totals_row, self.data[j].adjustments)  # fmt: skip


def _matrices(figures: _Figures) -> tuple[FloatArray, ...]:
    return (figures.actual, figures.target, figures.attainment, figures.factor, figures.payout)


def _round_where(values: FloatArray, mask: BoolArray, d: int) -> FloatArray:
    """ROUND of the masked entries (the others are left as they are: they are not used)."""
    out = values.copy()
    if mask.any():
        out[mask] = round_array(values[mask], d)
    return out


def _curve(mode: str, a: FloatArray, x: FloatArray, r: FloatArray, count: int) -> FloatArray:
    """``curves._stepped`` / ``_marginal`` / ``_linear`` with one curve per row."""
    if mode == "stepped":
        # searchsorted(x, a, side="right") - 1: the last tier whose start is <= a.
        index = (x[:, None, :] <= a[:, :, None]).sum(axis=2) - 1
        picked = np.take_along_axis(r, np.clip(index, 0, count - 1), axis=1)
        return np.where(index >= 0, picked, 0.0)
    if mode == "marginal":
        f = np.zeros_like(a)
        for i in range(count):
            upper = x[:, i + 1 : i + 2] if i + 1 < count else np.inf
            f = f + r[:, i : i + 1] * np.maximum(0.0, np.minimum(a, upper) - x[:, i : i + 1])
        return f
    f = np.where(a < x[:, :1], 0.0, r[:, -1:])
    for i in range(count - 1):
        x0, x1 = x[:, i : i + 1], x[:, i + 1 : i + 2]
        r0, r1 = r[:, i : i + 1], r[:, i + 1 : i + 2]
        inside = (a >= x0) & (a < x1)
        value = r0 + (a - x0) * (r1 - r0) / (x1 - x0)
        f = np.where(inside, value, f)
    return f
