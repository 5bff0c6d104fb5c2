"""Benchmark: what comparing formulas by meaning (SPEC §7) costs the batch check and validate.

Run: ``.venv/bin/python benchmarks/formula_identity.py [--repeat R]``. Builds the workbook of
generated contract 0 (12 periods, 8 KPIs) in each formula mode, then times:

- ``verify_built`` (the in-memory check ``kpixl batch`` runs on every workbook): equal text is
  accepted without tokenizing, so kpixl's own bytes cost what they cost before;
- tokenizing and normalising every template formula once, cold (what a foreign file pays the
  first time; the normal forms of template formulas are cached for the process).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from portfolio import portfolio  # noqa: E402  (a sibling module of this script)

from kpixl.workbook.build import build_bytes, formula_text
from kpixl.workbook.formula_tokens import normal_form
from kpixl.workbook.verify import verify_built


def main() -> None:
    """Time the batch check and the cold normalisation of one generated workbook per mode."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    ((contract, actuals),) = portfolio(1, periods=12, kpis=8)
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average: {os.getloadavg()[0]:.1f}")
    for mode in ("native", "udf"):
        built = build_bytes(contract, actuals, None, mode)
        assert verify_built(built, "bench.xlsx") == []
        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            verify_built(built, "bench.xlsx")
            timings.append(time.perf_counter() - start)
        texts = [formula_text(spec, mode) for spec in built.schema.formula_cells()]
        normal_form.cache_clear()
        start = time.perf_counter()
        for text in texts:
            normal_form(text)
        cold = time.perf_counter() - start
        print(
            f"  {mode:6} verify_built: best {min(timings) * 1000:.1f} ms, median "
            f"{statistics.median(timings) * 1000:.1f} ms; normalising its {len(texts)} formulas "
            f"cold: {cold * 1000:.1f} ms ({cold / len(texts) * 1e6:.0f} us each)"
        )


if __name__ == "__main__":
    main()
