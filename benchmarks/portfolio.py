"""Generated portfolios for benchmarks: N contracts × P periods × K KPIs, seeded."""

from __future__ import annotations

import csv
import json
import random
import zlib
from pathlib import Path
from typing import Any

from kpixl.actuals import Actuals
from kpixl.model import Contract, contract_from_data

CURVES: list[dict[str, Any] | None] = [
    None,
    {"mode": "marginal", "tiers": [{"from": 0, "rate": 1.0}, {"from": 1.0, "rate": 1.5}]},
    {"mode": "stepped", "tiers": [{"from": 0.8, "rate": 0.5}, {"from": 1.0, "rate": 1.0},
                                  {"from": 1.2, "rate": 1.3}]},
    {"mode": "linear", "tiers": [{"from": 0.9, "rate": 0.5}, {"from": 1.0, "rate": 1.0},
                                 {"from": 1.2, "rate": 1.4}]},
]  # fmt: skip


def contract_data(i: int, periods: int = 12, kpis: int = 8, seed: int = 7) -> dict[str, Any]:
    """The mapping of generated contract ``i``: every SPEC §5 feature appears across a portfolio."""
    rng = random.Random(seed * 1_000_003 + i)
    weights = [1 / kpis] * kpis
    weights[-1] = 1 - sum(weights[:-1])
    items = []
    for k in range(kpis):
        kpi: dict[str, Any] = {
            "code": f"k{k}",
            "unit": "currency" if k % 2 == 0 else "ratio",
            "direction": "lower" if k % 4 == 3 else "higher",
            "weight": weights[k],
            "target": round(rng.uniform(50, 500), 2),
            "threshold": 0.7 if k % 3 == 0 else None,
            "attainment_cap": 1.5,
            "curve": CURVES[(i + k) % len(CURVES)],
        }
        if k % 5 == 4:
            kpi["ratio"] = [f"n{k}", f"d{k}"]
        else:
            kpi["metric"] = f"m{k}"
        items.append({key: value for key, value in kpi.items() if value is not None})
    return {
        "id": f"BENCH-{i:05d}",
        "client": f"Client {i}",
        "provider": "Provider",
        "currency": "USD",
        "platform": "amazon",
        "start": "2027-01-01",
        "periods": periods,
        "settlement": "cumulative" if i % 3 == 0 else "period",
        "fee": {"base": 9000, "pool": 21000, "period_cap": 30000, "contract_cap": 300000},
        "kpis": items,
        "guardrails": [
            {"metric": "margin", "op": ">=", "bound": 0.2, "effect": "gate"},
            {
                "metric": "returns",
                "op": "<=",
                "bound": 0.08,
                "effect": "multiplier",
                "multiplier": 0.5,
            },
        ],  # fmt: skip
        "min_input": {"person_days": 20},
        "exit": {"threshold": 0.7, "consecutive": 2},
    }


def actuals_rows(data: dict[str, Any], seed: int = 7) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of actuals for a generated contract: around target, with misses."""
    # crc32, not hash(): str hashes change with PYTHONHASHSEED, between processes and runs.
    rng = random.Random(zlib.crc32(data["id"].encode()) ^ seed)
    header = ["period"]
    for kpi in data["kpis"]:
        header.extend(kpi.get("ratio") or [kpi["metric"]])
    header.extend(["margin", "returns", "person_days"])
    rows = []
    for p in range(1, data["periods"] + 1):
        row: list[Any] = [f"2027-{p:02d}" if p <= 12 else p]
        for kpi in data["kpis"]:
            level = rng.uniform(0.5, 1.6) * kpi["target"]
            if "ratio" in kpi:
                denominator = rng.uniform(100, 1000)
                row.extend([round(level * denominator, 2), round(denominator, 2)])
            else:
                row.append(round(level, 2))
        row.extend([round(rng.uniform(0.15, 0.35), 3), round(rng.uniform(0.02, 0.1), 3),
                    rng.choice([18, 20, 22])])  # fmt: skip
        rows.append(row)
    return header, rows


def write_files(folder: Path, name: str, data: dict[str, Any]) -> None:
    """Write a generated contract as ``<name>.json`` and its actuals as ``<name>.actuals.csv``."""
    (folder / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
    header, rows = actuals_rows(data)
    with open(folder / f"{name}.actuals.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def portfolio(count: int, periods: int = 12, kpis: int = 8) -> list[tuple[Contract, Actuals]]:
    """``count`` generated contracts with their actuals."""
    items = []
    for i in range(count):
        data = contract_data(i, periods, kpis)
        header, rows = actuals_rows(data)
        items.append((contract_from_data(data, f"bench-{i}.yaml"),
                      Actuals.from_rows(header, rows, f"bench-{i}.csv")))  # fmt: skip
    return items
