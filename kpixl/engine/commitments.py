"""What each quote commits to, in words and per month, to read quotes side by side (SPEC §10)."""

from __future__ import annotations

from collections.abc import Sequence

from kpixl.engine.outcomes import months_per_period
from kpixl.engine.rounding import excel_round
from kpixl.model import Contract, Curve, Kpi

_SYMBOLS = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def commitment_rows(
    contracts: Sequence[Contract], names: Sequence[str]
) -> list[tuple[str, tuple[str, ...]]]:
    """One row per term, one cell per quote: the commitments side by side.

    Targets are per month (a quarterly target ÷ 3 for a KPI that adds up over time, ``sum``;
    ratios and means unchanged); fees and caps per period and per month; KPIs of every quote
    appear, blank for quotes that do not have them.

    Args:
        contracts: the quotes.
        names: the id shown for each.

    Returns:
        (label, cells) rows.
    """
    rows: list[tuple[str, tuple[str, ...]]] = [("quote", tuple(names))]

    def row(label: str, cells: Sequence[str]) -> None:
        rows.append((label, tuple(cells)))

    row("provider", [c.provider for c in contracts])
    row("term", [_term(c) for c in contracts])
    row("base per month", [_per_month(c, c.fee.base) for c in contracts])
    row("bonus pool per month", [_per_month(c, c.fee.pool) for c in contracts])
    row("base share", [_base_share(c) for c in contracts])
    row("period cap", [_cap(c, c.fee.period_cap, per_period=True) for c in contracts])
    row("contract cap", [_cap(c, c.fee.contract_cap, per_period=False) for c in contracts])
    codes: list[str] = []
    for contract in contracts:
        codes += [kpi.code for kpi in contract.kpis if kpi.code not in codes]
    for code in codes:
        kpis = [_kpi(c, code) for c in contracts]
        row(
            f"{code}: target per month",
            [_targets(c, k) for c, k in zip(contracts, kpis, strict=True)],
        )
        row(f"{code}: weight", ["" if k is None else f"{k.weight:g}" for k in kpis])
        row(f"{code}: curve", ["" if k is None else curve_words(k) for k in kpis])
    row("guardrails", [_guardrails(c) for c in contracts])
    row("exit terms", [_exit(c) for c in contracts])
    row("min person-days per month", [_person_days(c) for c in contracts])
    return rows


def curve_words(kpi: Kpi) -> str:
    """A KPI's payout rule in words: direction, curve, threshold and caps."""
    parts = [_curve(kpi.curve)]
    if kpi.direction == "lower":
        parts.insert(0, "lower is better")
    if kpi.baseline is not None:
        parts.append("attainment measured from the baseline")
    if kpi.threshold is not None:
        parts.append(f"nothing below {kpi.threshold:.0%}")
    if kpi.attainment_cap is not None:
        parts.append(f"attainment capped at {kpi.attainment_cap:.0%}")
    if kpi.factor_cap is not None:
        parts.append(f"factor capped at {kpi.factor_cap:g}")
    return "; ".join(parts)


def _curve(curve: Curve | None) -> str:
    if curve is None or not curve.tiers:
        return "factor = attainment"
    tiers = ", ".join(f"{t.rate:g} from {t.from_:.0%}" for t in curve.tiers)
    if curve.mode == "stepped":
        return f"stepped: {tiers}"
    if curve.mode == "marginal":
        return f"marginal (rate per point of attainment): {tiers}"
    points = ", ".join(f"{t.rate:g} at {t.from_:.0%}" for t in curve.tiers)
    return f"linear through {points}"


def _kpi(contract: Contract, code: str) -> Kpi | None:
    for kpi in contract.kpis:
        if kpi.code == code:
            return kpi
    return None


def _targets(contract: Contract, kpi: Kpi | None) -> str:
    if kpi is None:
        return ""
    months = months_per_period(contract)
    divide = months if kpi.ratio is None and kpi.rolls_up == "sum" else 1
    values = [t / divide for t in kpi.effective_targets(contract.periods)]
    if all(v == values[0] for v in values):
        text = f"{values[0]:,.6g}"
    else:
        text = ", ".join(f"{v:,.6g}" for v in values) + f" (periods 1..{len(values)})"
    if divide != 1:
        text += f" (quarterly target ÷ {divide})"
    return text


def _term(contract: Contract) -> str:
    months = contract.periods * months_per_period(contract)
    text = f"{contract.periods} {contract.period}s ({months} months) from {contract.start}"
    text += f", {contract.settlement} settlement"
    return text + (" with clawback" if contract.clawback else "")


def _per_month(contract: Contract, amount: float) -> str:
    d = contract.decimals
    value = excel_round(amount / months_per_period(contract), d)
    return f"{value:,.{d}f}"


def _base_share(contract: Contract) -> str:
    whole = contract.fee.base + contract.fee.pool
    return "" if whole == 0 else f"{contract.fee.base / whole:.1%}"


def _cap(contract: Contract, cap: float | None, *, per_period: bool) -> str:
    if cap is None:
        return "none"
    d = contract.decimals
    text = f"{cap:,.{d}f}"
    if per_period:
        text += f" per {contract.period}"
        if contract.period == "quarter":
            text += f" ({_per_month(contract, cap)} per month)"
    return text


def _guardrails(contract: Contract) -> str:
    parts = []
    for guardrail in contract.guardrails:
        what = " / ".join(guardrail.ratio) if guardrail.ratio else guardrail.source_column
        effect = "gate" if guardrail.effect == "gate" else f"× {guardrail.breach_multiplier:g}"
        parts.append(f"{what} {_SYMBOLS[guardrail.op]} {guardrail.bound:g} ({effect})")
    return "; ".join(parts) or "none"


def _exit(contract: Contract) -> str:
    if contract.exit is None:
        return "none"
    return (
        f"after {contract.exit.consecutive} consecutive {contract.period}s with weighted "
        f"attainment below {contract.exit.threshold:.0%}"
    )


def _person_days(contract: Contract) -> str:
    if contract.min_input is None:
        return "none"
    return f"{contract.min_input.person_days / months_per_period(contract):g}"
