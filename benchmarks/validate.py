"""Benchmark: validate one 12-period, 8-KPI workbook (issue 6 target: <= 0.2 s).

Run: ``.venv/bin/python benchmarks/validate.py [--repeat R]``. Builds the workbook of generated
contract 0 (with actuals) in each formula mode, then times ``validate_workbook`` on it.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from portfolio import portfolio  # noqa: E402  (a sibling module of this script)

from kpixl.workbook import template
from kpixl.workbook.build import build_workbook
from kpixl.workbook.validate import validate_workbook


def main() -> None:
    """Build, then time validation of, one generated workbook per formula mode."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    ((contract, actuals),) = portfolio(1, periods=12, kpis=8)
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as folder:
        for mode in ("native", "udf"):
            path = Path(folder) / f"{mode}.xlsx"
            build_workbook(contract, actuals, None, mode=mode, out=path)
            issues = validate_workbook(path)
            timings = []
            for _ in range(args.repeat):
                template._RECENT.clear()  # time a cold validation, as `kpixl validate` runs it
                start = time.perf_counter()
                validate_workbook(path)
                timings.append(time.perf_counter() - start)
            size = path.stat().st_size
            print(
                f"  {mode:6s} workbook {size / 1024:.0f} KiB, {len(issues)} issues: "
                f"best {min(timings):.3f} s, median {sorted(timings)[len(timings) // 2]:.3f} s"
            )


if __name__ == "__main__":
    main()
