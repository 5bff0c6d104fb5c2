"""Start-up: whole `kpixl` processes against `python -c "import pydantic, numpy"`.

    .venv/bin/python benchmarks/startup.py [--runs 15]

Each command runs as a fresh process, ``--runs`` times after one warm-up run (so the file cache
is warm); the table gives the median and the minimum wall time, and each command's median over
the reference's. The workbook for ``recalc`` is built once beforehand with ``kpixl quote``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "workbooks" / "examples"


def _kpixl() -> list[str]:
    script = Path(sys.executable).with_name("kpixl")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kpixl"]


def _time(command: list[str], runs: int) -> list[float]:
    times = []
    for i in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i:  # the first run warms the file cache
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    """Time the commands and print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    kpixl = _kpixl()
    contract = str(EXAMPLES / "acme-amz-us.yaml")
    actuals = str(EXAMPLES / "acme-amz-us.actuals.csv")
    folder = Path(tempfile.mkdtemp(prefix="kpixl-startup-"))
    try:
        workbook = folder / "acme.xlsx"
        quote = [*kpixl, "quote", contract, "--actuals", actuals, "-o", str(workbook)]
        subprocess.run(quote, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        commands = {
            'python -c "pass"': [sys.executable, "-c", "pass"],
            'python -c "import pydantic, numpy"': [sys.executable, "-c", "import pydantic, numpy"],
            "kpixl --version": [*kpixl, "--version"],
            "kpixl settle acme-amz-us": [*kpixl, "settle", contract, actuals],
            "kpixl recalc acme.xlsx": [*kpixl, "recalc", str(workbook)],
        }
        results = {name: _time(command, args.runs) for name, command in commands.items()}
    finally:
        shutil.rmtree(folder)
    reference = statistics.median(results['python -c "import pydantic, numpy"'])
    print(f"load average {os.getloadavg()[0]:.2f}, {args.runs} runs each")
    print(f"{'command':40} {'median s':>9} {'min s':>7} {'÷ ref':>6}")
    for name, times in results.items():
        median = statistics.median(times)
        print(f"{name:40} {median:9.3f} {min(times):7.3f} {median / reference:6.2f}")


if __name__ == "__main__":
    main()
