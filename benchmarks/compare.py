"""Benchmark: ``compare`` of the two example quotes on many outcomes (SPEC §10), best of R runs.

Run: ``.venv/bin/python benchmarks/compare.py [--outcomes N] [--repeat R]``. Each outcome settles
ACME (6 monthly periods) and GlowLab (4 quarters, cumulative) over their whole terms; loading the
contracts is not timed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from kpixl.engine.comparison import Outcome, compare
from kpixl.model import load_contract

EXAMPLES = Path(__file__).resolve().parents[1] / "workbooks" / "examples"
PLAN = {
    "gmv": 200000.0,
    "ad_sales": 70000.0,
    "ad_gmv": 70000.0,
    "ad_spend": 20000.0,
    "affiliate_gmv": 70000.0,
    "refunds": 12000.0,
    "gross_margin": 0.28,
    "return_rate": 0.06,
}
RATIOS = ("gross_margin", "return_rate")


def main() -> None:
    """Time compare() over N outcomes scaled from the plan and print the result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outcomes", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    quotes = [
        load_contract(EXAMPLES / name) for name in ("acme-amz-us.yaml", "tiktok-us-beauty.yaml")
    ]
    outcomes = [
        Outcome(
            f"x{i}",
            tuple(
                (column, value if column in RATIOS else value * (0.5 + i / args.outcomes))
                for column, value in PLAN.items()
            ),
        )
        for i in range(args.outcomes)
    ]
    best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        compare(quotes, outcomes)
        best = min(best, time.perf_counter() - start)
    settled = args.outcomes * len(quotes)
    print(
        f"compare 2 quotes × {args.outcomes} outcomes ({settled} whole-term settlements): "
        f"best {best:.3f} s ({best / settled * 1e3:.2f} ms per quote-outcome); "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
