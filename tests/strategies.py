"""Hypothesis strategies for valid contracts and their actuals."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from kpixl.actuals import Actuals
from kpixl.model import Contract, contract_from_data

MODES = ("stepped", "marginal", "linear", None)


@st.composite
def curves(draw: st.DrawFn, mode: str | None, monotone: bool = True) -> dict[str, Any] | None:
    """A curve of the given mode; rates never fall when ``monotone``."""
    if mode is None:
        return None
    count = draw(st.integers(min_value=2 if mode == "linear" else 1, max_value=4))
    starts = sorted(draw(st.sets(st.sampled_from([0, 0.5, 0.8, 0.9, 1.0, 1.1, 1.2, 1.5]),
                                 min_size=count, max_size=count)))  # fmt: skip
    rates = draw(st.lists(st.sampled_from([0, 0.25, 0.5, 1.0, 1.25, 1.5, 2.0]),
                          min_size=count, max_size=count))  # fmt: skip
    if monotone:
        rates = sorted(rates)
    return {
        "mode": mode,
        "tiers": [{"from": f, "rate": r} for f, r in zip(starts, rates, strict=True)],
    }


@st.composite
def contract_data(
    draw: st.DrawFn,
    settlement: str | None = None,
    modes: tuple[str | None, ...] = MODES,
    direction: str | None = None,
    caps: bool = True,
    guardrails: bool = True,
    periods: int | None = None,
) -> dict[str, Any]:
    """The mapping of a valid contract whose KPI k reads column ``m{k}``."""
    n = periods or draw(st.integers(min_value=1, max_value=6))
    count = draw(st.integers(min_value=1, max_value=4))
    shares = draw(st.lists(st.integers(min_value=1, max_value=8), min_size=count, max_size=count))
    weights = [s / sum(shares) for s in shares]
    kpis = []
    for k, weight in enumerate(weights):
        kpi: dict[str, Any] = {
            "code": f"k{k}",
            "unit": "count",
            "direction": direction or draw(st.sampled_from(["higher", "lower"])),
            "weight": weight,
            "target": draw(st.integers(min_value=10, max_value=10_000)),
            "metric": f"m{k}",
        }
        curve = draw(curves(draw(st.sampled_from(modes))))
        if curve is not None:
            kpi["curve"] = curve
        if draw(st.booleans()):
            kpi["threshold"] = draw(st.sampled_from([0.5, 0.8, 0.9]))
        if draw(st.booleans()):
            kpi["attainment_cap"] = draw(st.sampled_from([1.2, 1.5, 2.0]))
        if draw(st.booleans()):
            kpi["factor_cap"] = draw(st.sampled_from([1.0, 1.3, 2.0]))
        kpis.append(kpi)
    fee: dict[str, Any] = {
        "base": draw(st.integers(min_value=0, max_value=20_000)),
        "pool": draw(st.integers(min_value=0, max_value=50_000)),
    }
    if caps and draw(st.booleans()):
        fee["period_cap"] = draw(st.integers(min_value=0, max_value=60_000))
    if caps and draw(st.booleans()):
        fee["contract_cap"] = draw(st.integers(min_value=0, max_value=200_000))
    data: dict[str, Any] = {
        "id": "PROP-1",
        "client": "Client",
        "provider": "Provider",
        "currency": draw(st.sampled_from(["USD", "VND", "EUR"])),
        "platform": "amazon",
        "start": "2027-01-01",
        "periods": n,
        "settlement": settlement or draw(st.sampled_from(["period", "cumulative"])),
        "fee": fee,
        "kpis": kpis,
    }
    if guardrails and draw(st.booleans()):
        data["guardrails"] = [
            {"metric": "g0", "op": ">=", "bound": 25, "effect": "multiplier", "multiplier": 0.5}
        ]
    return data


@st.composite
def actuals_for(draw: st.DrawFn, data: dict[str, Any], constant: bool = False) -> Actuals:
    """Actuals for every period of the contract mapping; the same row each period if ``constant``."""
    columns = [kpi["metric"] for kpi in data["kpis"]] + ["g0"]
    values = st.integers(min_value=0, max_value=20_000)
    first = [draw(values) for _ in columns]
    rows = []
    for p in range(1, data["periods"] + 1):
        row = first if constant else [draw(values) for _ in columns]
        rows.append([p, *row])
    return Actuals.from_rows(["period", *columns], rows, "generated.csv")


def build(data: dict[str, Any]) -> Contract:
    """The contract of a generated mapping."""
    return contract_from_data(data, "generated.yaml")
