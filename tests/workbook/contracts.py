"""Deterministic generator of varied valid contracts and actuals covering every SPEC §5 feature."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from kpixl.actuals import Actuals, Adjustments
from kpixl.engine.pricing import price_quote, quote_for
from kpixl.model import Contract, contract_from_data
from kpixl.ratecard import load_rate_card

MODES = ("stepped", "marginal", "linear", None)


@dataclass(frozen=True)
class Case:
    """One generated contract with its actuals."""

    name: str
    contract: Contract
    actuals: Actuals
    adjustments: Adjustments | None = None


def _curve(rng: random.Random, mode: str | None) -> dict[str, Any] | None:
    if mode is None:
        return None
    count = rng.randint(2, 4)
    froms = sorted(rng.sample([0.0, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5], count))
    rates = sorted(round(rng.uniform(0.0, 1.6), 3) for _ in froms)
    return {
        "mode": mode,
        "tiers": [{"from": x, "rate": r} for x, r in zip(froms, rates, strict=True)],
    }


def _kpi(rng: random.Random, i: int, k: int, periods: int, weight: float) -> dict[str, Any]:
    direction = "lower" if (i + k) % 3 == 1 else "higher"
    unit = ("currency", "count", "percent", "ratio", "score")[(i + k) % 5]
    target = (
        round(rng.uniform(50, 5000), 2)
        if unit in ("currency", "count")
        else round(rng.uniform(0.05, 3.0), 3)
    )
    kpi: dict[str, Any] = {
        "code": f"k{k}",
        "name": f"KPI {k}",
        "unit": unit,
        "direction": direction,
        "weight": weight,
    }
    variant = (i * 7 + k) % 6
    if variant == 0:
        kpi["target"] = [round(target * rng.uniform(0.8, 1.2), 2) for _ in range(periods)]
    else:
        kpi["target"] = target
    if variant == 1:
        kpi["ramp"] = [round(rng.uniform(0.6, 0.95), 2) for _ in range(rng.randint(1, periods))]
    if variant == 2:
        kpi["baseline"] = round(target * (0.5 if direction == "higher" else 1.6), 3)
    if unit in ("ratio", "percent") and (i + k) % 2 == 0:
        kpi["ratio"] = [f"n{k}", f"d{k}"]
    if (i + k) % 4 == 0:
        kpi["threshold"] = rng.choice([0.5, 0.8, 0.9])
    if (i + k) % 5 == 0:
        kpi["attainment_cap"] = rng.choice([1.2, 1.5])
        kpi["threshold"] = min(kpi.get("threshold", 0.5), 1.0)
    if (i + k) % 3 == 0:
        kpi["factor_cap"] = rng.choice([1.1, 1.3])
    if i % 4 == 3:
        kpi["aggregate"] = ("sum", "mean", "last")[(i + k) % 3]
    curve = _curve(rng, MODES[(i + k) % 4])
    if curve is not None:
        kpi["curve"] = curve
    return kpi


def _guardrails(rng: random.Random, i: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if i % 3 == 0:
        out.append({"metric": "g0", "op": rng.choice([">=", ">"]), "bound": 0.25, "effect": "gate"})
    if i % 3 != 2:
        out.append(
            {
                "ratio": ["gn1", "gd1"],
                "op": rng.choice(["<=", "<"]),
                "bound": 0.5,
                "effect": "multiplier",
                "multiplier": 0.5,
                **({"aggregate": "last"} if i % 5 == 0 else {}),
            }
        )
    return out


def contract_data(i: int) -> dict[str, Any]:
    """The i-th generated contract as YAML-like data."""
    rng = random.Random(1000 + i)
    periods = 2 + i % 3
    count = 1 + i % 3
    weights = [round(1 / count, 6)] * count
    weights[-1] = round(1 - sum(weights[:-1]), 12)
    currency = "JPY" if i % 7 == 3 else ("EUR" if i % 2 else "USD")
    pool = 1_000_000 if currency == "JPY" else round(rng.uniform(1000, 30000), 2)
    fee: dict[str, Any] = {"base": round(pool * 0.4, 2), "pool": pool}
    if i % 3 == 1:
        fee["period_cap"] = round(pool * 1.1, 2)
    if i % 4 == 2:
        fee["contract_cap"] = round(pool * 1.3, 2)  # binds within a few periods
    data: dict[str, Any] = {
        "id": f"GEN-{i:03d}",
        "client": '=HYPERLINK("x")' if i == 5 else f"Client {i}",
        "provider": "+Provider" if i == 6 else "Provider",
        "currency": currency,
        "platform": "shopee",
        "start": dt.date(2027, 1 + i % 12, 1),
        "period": "quarter" if i % 5 == 4 else "month",
        "periods": periods,
        "settlement": "cumulative" if i % 2 == 1 else "period",
        "clawback": i % 4 == 3,
        "fee": fee,
        "kpis": [_kpi(rng, i, k, periods, weights[k]) for k in range(count)],
        "guardrails": _guardrails(rng, i),
    }
    if i % 3 == 2:
        data["min_input"] = {"person_days": 20}
    if i % 2 == 0:
        data["exit"] = {"threshold": 0.9, "consecutive": 1 + i % 2}
    return data


def _value(rng: random.Random, kpi: Contract | Any, p: int, periods: int) -> float:
    target = kpi.effective_targets(periods)[p - 1]
    return round(target * rng.uniform(0.3, 1.7), 4)


def case(i: int) -> Case:
    """The i-th generated case: contract and actuals (the last period unknown for some)."""
    contract = contract_from_data(contract_data(i), f"gen-{i}")
    rng = random.Random(5000 + i)
    columns = list(contract.required_columns)
    known = contract.periods - (1 if i % 3 == 0 else 0)
    rows: list[list[Any]] = []
    for p in range(1, contract.periods + 1):
        cells: dict[str, Any] = {}
        for kpi in contract.kpis:
            value = _value(rng, kpi, p, contract.periods)
            if kpi.ratio is not None:
                den = round(rng.uniform(100, 1000), 2)
                cells[kpi.ratio[0]] = round(value * den, 4)
                cells[kpi.ratio[1]] = den
            else:
                cells[kpi.source_column] = value
        cells["g0"] = round(rng.uniform(0.15, 0.4), 3)
        cells["gn1"] = round(rng.uniform(10, 80), 2)
        cells["gd1"] = 100.0
        cells["person_days"] = float(rng.randint(14, 24))
        label = contract.period_label(p)
        rows.append([label, *(cells[c] if p <= known else None for c in columns)])
    actuals = Actuals.from_rows(["period", *columns], rows, f"gen-{i}.csv")
    adjustments = None
    if i % 6 == 1 and known >= 1:
        first = contract.kpis[0].columns[0]
        adjustments = Adjustments.from_rows(
            ["period", "metric", "value", "reason", "approved_by"],
            [[contract.period_label(1), first, 123.5, "stock-out relief", "CFO"]],
            f"gen-{i}.adjustments.csv",
        )
    return Case(f"gen-{i:03d}", contract, actuals, adjustments)


def cases(count: int = 50) -> list[Case]:
    """The first ``count`` generated cases."""
    return [case(i) for i in range(count)]


def priced_case(i: int) -> Case:
    """The i-th case with a quote section priced by the SAMPLE rate card, and that price as fee.

    The quote varies with i: team, category class, integration, add-ons, languages, term,
    risk premium, a cap ratio (then the period cap is the priced one) and a CPS rate.
    """
    base = case(i)
    card = load_rate_card()
    names = list(card.add_ons)
    data = contract_data(i)
    data["quote"] = {
        "team": {"manager": 1 + i % 2, "specialist": 0.5 * (i % 4), "junior": i % 3},
        "category_class": ("standard", "non_standard", "regulated")[i % 3],
        "integration": ("manual", "api", "third_party_tool")[i % 3],
        "add_ons": names[: i % (len(names) + 1)],
        "languages": i % 3,
        "term_months": (1, 6, 12, 24)[i % 4],
        "base_share": 1.0 if i % 8 == 7 else (0.3, 0.35, 0.5)[i % 3],  # 1.0: no bonus pool
        "risk_premium": 1 + 0.1 * (i % 3),
        **({"cap_ratio": 1.5} if i % 2 == 0 else {}),
        "cps_rate": 0.05 + 0.01 * (i % 3),
    }
    unpriced = contract_from_data(data, f"gen-{i}-priced")
    price = price_quote(card, quote_for(unpriced), unpriced.period, unpriced.decimals)
    data["fee"] |= {"base": price.base, "pool": price.pool}
    if price.period_cap is not None:
        data["fee"]["period_cap"] = price.period_cap
    contract = contract_from_data(data, f"gen-{i}-priced")
    return Case(f"gen-{i:03d}-priced", contract, base.actuals, base.adjustments)
