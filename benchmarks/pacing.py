"""Benchmark: pace 1,000 generated contracts × 8 KPIs × 31 daily rows (SPEC §9).

Run: ``.venv/bin/python benchmarks/pacing.py [--contracts N] [--kpis K] [--repeat R]``.
Each contract's daily rows cover March 2027 (31 days); pacing runs as of day 12 (projection,
settlement of the projection, next steps) and as of day 31. Reports the best of R runs; generating
the contracts and checking the daily rows (``resolve_daily``) are timed apart.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from portfolio import contract_data  # noqa: E402  (a sibling module of this script)

from kpixl.daily import DailyData, DailyRows, resolve_daily
from kpixl.engine.pacing import pace
from kpixl.model import Contract, contract_from_data


def daily_rows(data: dict[str, Any], days: int = 31, seed: int = 7) -> DailyRows:
    """March 2027, one row per day, every KPI around a 31st of its monthly target."""
    rng = random.Random(f"{data['id']}-{seed}")
    header = ["date"]
    for kpi in data["kpis"]:
        header.extend(kpi.get("ratio") or [kpi["metric"]])
    header.extend(["margin", "returns", "person_days"])
    rows = []
    for d in range(1, days + 1):
        row: list[Any] = [dt.date(2027, 3, d).isoformat()]
        for kpi in data["kpis"]:
            level = rng.uniform(0.5, 1.6) * kpi["target"]
            if "ratio" in kpi:
                denominator = rng.uniform(3, 30)
                row.extend([round(level * denominator, 2), round(denominator, 2)])
            elif kpi["unit"] == "currency":
                row.append(round(level / days, 2))
            else:
                row.append(round(level, 2))
        row.extend([round(rng.uniform(0.15, 0.35), 3), round(rng.uniform(0.02, 0.1), 3), 1])
        rows.append(row)
    return DailyRows.from_rows(header, rows, f"{data['id']}.daily.csv")


def main() -> None:
    """Time pace() over a generated portfolio and print the result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--kpis", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    raw: list[tuple[Contract, DailyRows]] = []
    for i in range(args.contracts):
        data = contract_data(i, periods=12, kpis=args.kpis)
        raw.append((contract_from_data(data, f"bench-{i}.json"), daily_rows(data)))
    start = time.perf_counter()
    items: list[tuple[Contract, DailyData]] = [(c, resolve_daily(c, rows)) for c, rows in raw]
    checking = time.perf_counter() - start
    timings = {}
    for label, day in (("as of day 12", 12), ("as of day 31", 31)):
        as_of = dt.date(2027, 3, day)
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            for contract, daily in items:
                pace(contract, daily, as_of)
            best = min(best, time.perf_counter() - start)
        timings[label] = best
    machine = platform.processor() or platform.machine()
    load = os.getloadavg()[0]
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load {load:.1f}")  # fmt: skip
    print(f"{args.contracts} contracts x {args.kpis} KPIs x 31 daily rows, best of {args.repeat}")
    print(f"  checking the daily rows (resolve_daily)  {checking:7.3f} s")
    for label, seconds in timings.items():
        per = seconds / args.contracts * 1e3
        print(f"  pace {label:34s} {seconds:7.3f} s  {per:6.3f} ms/contract")


if __name__ == "__main__":
    main()
