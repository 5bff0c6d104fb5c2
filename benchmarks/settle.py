"""Benchmark: settle 1,000 generated contracts × 12 periods × 8 KPIs (issue 2 target: < 1 s).

Run: ``make bench`` or ``.venv/bin/python benchmarks/settle.py [--contracts N] [--repeat R]``.
Reports the best of R runs; generation and contract validation are not timed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from portfolio import portfolio  # noqa: E402  (a sibling module of this script)

from kpixl.actuals import resolve
from kpixl.engine.settle import settle


def main() -> None:
    """Time settle() over a generated portfolio and print the result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--periods", type=int, default=12)
    parser.add_argument("--kpis", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    items = portfolio(args.contracts, args.periods, args.kpis)
    kpi_periods = args.contracts * args.periods * args.kpis
    timings = {}
    for label, run in (
        ("settle (actuals checked + settled)", settle),
        ("resolve only (actuals checked)", resolve),
    ):
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            for contract, actuals in items:
                run(contract, actuals)
            best = min(best, time.perf_counter() - start)
        timings[label] = best
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{args.contracts} contracts x {args.periods} periods x {args.kpis} KPIs "
          f"= {kpi_periods:,} KPI-periods, best of {args.repeat}")  # fmt: skip
    for label, seconds in timings.items():
        print(f"  {label:38s} {seconds:7.3f} s  {seconds / kpi_periods * 1e6:6.2f} us/KPI-period")


if __name__ == "__main__":
    main()
