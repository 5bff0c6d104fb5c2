"""Fee scenarios (SPEC §6): the fee at uniform attainment levels, settled by the engine itself."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kpixl.actuals import Actuals
from kpixl.engine.attainment import attainment
from kpixl.engine.many import settle_many
from kpixl.engine.money import apply_caps
from kpixl.engine.rounding import excel_round
from kpixl.model import NON_NEGATIVE_UNITS, Contract, Guardrail, Kpi
from kpixl.ratecard import DEFAULT_LEVELS

# Enough one-ulp nudges to undo the rounding error of one multiplication and one division.
_MAX_NUDGES = 64


@dataclass(frozen=True, slots=True)
class ScenarioRow:
    """The fee of one period when every KPI sits at one attainment level, and its alternatives."""

    level: float
    actuals: tuple[tuple[str, float], ...]
    attainments: tuple[tuple[str, float], ...]
    base: float
    bonus: float
    total: float
    gmv: float | None
    fee_share: float | None
    fixed_fee: float
    cps_fee: float | None

    def to_dict(self) -> dict[str, Any]:
        """This row as a JSON-ready mapping."""
        return {
            "level": self.level,
            "actuals": dict(self.actuals),
            "attainments": dict(self.attainments),
            "base": self.base,
            "bonus": self.bonus,
            "total": self.total,
            "gmv": self.gmv,
            "fee_share": self.fee_share,
            "fixed_fee": self.fixed_fee,
            "cps_fee": self.cps_fee,
        }


@dataclass(frozen=True, slots=True)
class ScenarioFee:
    """Base, bonus and total of one scenario period (period 1, every guardrail holding)."""

    base: float
    bonus: float
    total: float


def scenario_fee(
    base: float,
    payouts: Sequence[float],
    period_cap: float | None = None,
    contract_cap: float | None = None,
    decimals: int = 2,
) -> ScenarioFee:
    """The fee of a scenario period from its KPI payouts (SPEC §5.6-5.10 for period 1).

    Guardrails hold (multiplier 1), person-days are met and nothing was paid before, so:
    base = ROUND(base, d); bonus = ROUND(Σ payouts, d), then the period cap and the contract
    cap (``apply_caps``); total = ROUND(base + bonus, d). Cumulative settlement gives the same
    period 1, so this equals ``settle()``'s period there. ``scenarios()`` and KPIXL_SCENARIO
    call it; the workbook's native formulas spell the same steps in the same order.

    Args:
        base: the base fee per period.
        payouts: each KPI's payout at the level, summed in this order (as Excel adds cells).
        period_cap: the most one period may pay.
        contract_cap: the most the whole contract may pay.
        decimals: the currency's decimals.

    Returns:
        The base, bonus and total, each rounded to the currency.
    """
    rounded_base = excel_round(base, decimals)
    # sum(), not fsum(): left-to-right like settle() and like Excel's A1+B1+C1.
    uncapped = excel_round(sum(payouts, 0.0), decimals)
    bonus = apply_caps(uncapped, period_cap, 0.0, contract_cap, decimals)
    return ScenarioFee(rounded_base, bonus, excel_round(rounded_base + bonus, decimals))


def actual_for_level(kpi: Kpi, target: float, baseline: float | None, level: float) -> float:
    """The actual that gives a KPI attainment ``level`` (SPEC §5.3 inverted).

    The product and quotient can land a hair below the level (0.7999999999999998 under a
    0.8 threshold), so the actual is nudged one ulp at a time until the engine's own
    attainment reaches the level. A non-negative unit cannot go below 0, which limits a
    ``lower`` KPI without baseline to attainment 2.

    Args:
        kpi: the KPI.
        target: its effective target in the period.
        baseline: its baseline in the period, or None.
        level: the attainment wanted, ≥ 0.

    Returns:
        The actual.
    """
    if kpi.direction == "higher":
        value = level * target if baseline is None else baseline + level * (target - baseline)
        better = math.inf
    else:
        value = (2 - level) * target if baseline is None else baseline - level * (baseline - target)
        better = -math.inf
    for _ in range(_MAX_NUDGES):
        if float(attainment(value, target, kpi.direction, baseline)) >= level:
            break
        value = math.nextafter(value, better)
    if kpi.unit in NON_NEGATIVE_UNITS and value < 0:
        value = 0.0
    return value


def holding_value(guardrail: Guardrail) -> float:
    """A value for which a guardrail holds: its bound, or the next float past it for > and <."""
    if guardrail.op == ">":
        return math.nextafter(guardrail.bound, math.inf)
    if guardrail.op == "<":
        return math.nextafter(guardrail.bound, -math.inf)
    return guardrail.bound


def scenario_contract(contract: Contract) -> Contract:
    """The contract with every KPI and guardrail reading a column of its own.

    Ratio KPIs share columns (ROAS = ad_sales / ad_spend, TACoS = ad_spend / gmv), so their
    actuals cannot be set one KPI at a time; a KPI's actual is its ratio with denominator 1,
    so reading it directly gives the same attainment, factor and payout.

    Args:
        contract: the contract.

    Returns:
        A copy whose KPI k reads ``_kpi{k}`` and guardrail i reads ``_guard{i}``.
    """
    kpis = tuple(
        kpi.model_copy(update={"metric": f"_kpi{k}", "ratio": None})
        for k, kpi in enumerate(contract.kpis)
    )
    guardrails = tuple(
        guardrail.model_copy(update={"metric": f"_guard{i}", "ratio": None})
        for i, guardrail in enumerate(contract.guardrails)
    )
    return contract.model_copy(update={"kpis": kpis, "guardrails": guardrails})


def level_actuals(contract: Contract, level: float) -> tuple[float, ...]:
    """Every KPI's period-1 actual at attainment ``level``, in contract order."""
    return _level_actuals(contract, _period_one(contract), level)


def _period_one(contract: Contract) -> list[tuple[Kpi, float, float | None]]:
    """Each KPI with its period-1 effective target and baseline."""
    out = []
    for kpi in contract.kpis:
        baselines = kpi.baselines(contract.periods)
        target = kpi.effective_targets(contract.periods)[0]
        out.append((kpi, target, None if baselines is None else baselines[0]))
    return out


def _level_actuals(
    contract: Contract, period_one: list[tuple[Kpi, float, float | None]], level: float
) -> tuple[float, ...]:
    return tuple(
        actual_for_level(kpi, target, baseline, level) for kpi, target, baseline in period_one
    )


def scenario_actuals(
    contract: Contract, level: float, values: tuple[float, ...] | None = None
) -> Actuals:
    """Period 1's actuals of :func:`scenario_contract` with every KPI at ``level``.

    Args:
        contract: the original contract.
        level: the uniform attainment level.
        values: :func:`level_actuals` of the contract and level, when the caller has them.

    Returns:
        One row of actuals: every KPI at the level, guardrails holding, full person-days.
    """
    header: list[str] = ["period"]
    row: list[float | str] = [contract.period_label(1)]
    if values is None:
        values = level_actuals(contract, level)
    for k, value in enumerate(values):
        header.append(f"_kpi{k}")
        row.append(value)
    for i, guardrail in enumerate(contract.guardrails):
        header.append(f"_guard{i}")
        row.append(holding_value(guardrail))
    if contract.min_input is not None:
        header.append("person_days")
        row.append(contract.min_input.person_days)
    return Actuals.from_rows(header, [row], f"scenario at level {level:g}")


def revenue_target(contract: Contract) -> float | None:
    """Period 1's effective target of the revenue KPI, or None without a ``revenue_kpi``."""
    if contract.revenue_kpi is None:
        return None
    return contract.kpi(contract.revenue_kpi).effective_targets(contract.periods)[0]


def scenarios(
    contract: Contract,
    levels: Sequence[float] | None = None,
    cps_rate: float | None = None,
    fixed_fee: float | None = None,
) -> list[ScenarioRow]:
    """The fee of period 1 at uniform attainment levels, beside a fixed fee and pure commission.

    Args:
        contract: the contract.
        levels: attainment levels; default the quote's ``levels``, else 0, 0.5, 0.8, 1, 1.2, 1.5.
        cps_rate: commission rate on GMV; default the quote's ``cps_rate``; None: no CPS column.
        fixed_fee: the fixed-fee alternative per period (the quote's list price); default
            ROUND(fee.base + fee.pool, d) when the caller has no list price.

    Returns:
        One row per level: the KPI payouts of ``settle()``'s period 1, then
        :func:`scenario_fee` for fee(L) = base + bonus(L); GMV(L) = revenue target · L, fee share,
        fixed fee and ROUND(cps_rate · GMV(L), d).
    """
    d = contract.decimals
    quote = contract.quote
    if levels is None:
        levels = quote.levels if quote is not None and quote.levels is not None else DEFAULT_LEVELS
    if cps_rate is None and quote is not None:
        cps_rate = quote.cps_rate
    if fixed_fee is None:
        fixed_fee = excel_round(contract.fee.base + contract.fee.pool, d)
    synthetic = scenario_contract(contract)
    revenue = revenue_target(contract)
    cap = contract.fee.contract_cap
    rows = []
    # One block of identical contracts: settle_many gives settle()'s results to the last bit.
    period_one = _period_one(contract)
    actuals = [_level_actuals(contract, period_one, level) for level in levels]
    settled = settle_many(
        [synthetic] * len(levels),
        [scenario_actuals(contract, lv, own) for lv, own in zip(levels, actuals, strict=True)],
    )
    for level, values, settlement in zip(levels, actuals, settled, strict=True):
        period = settlement.periods[0]
        payouts = [k.payout for k in period.kpis]
        fee = scenario_fee(contract.fee.base, payouts, contract.fee.period_cap, cap, d)
        gmv = None if revenue is None else revenue * level
        cps = None if cps_rate is None or gmv is None else excel_round(cps_rate * gmv, d)
        rows.append(
            ScenarioRow(
                level=level,
                actuals=tuple(
                    (kpi.code, value) for kpi, value in zip(contract.kpis, values, strict=True)
                ),
                attainments=tuple((k.code, k.attainment) for k in period.kpis),
                base=fee.base,
                bonus=fee.bonus,
                total=fee.total,
                gmv=gmv,
                fee_share=None if not gmv else fee.total / gmv,
                fixed_fee=fixed_fee,
                cps_fee=cps,
            )
        )
    return rows
