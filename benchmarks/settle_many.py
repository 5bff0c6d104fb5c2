"""Benchmark: ``kpixl.settle_many`` on 10,000 contracts × 12 periods × 8 KPIs; loading the files.

Run: ``.venv/bin/python benchmarks/settle_many.py [--contracts N] [--repeat R] [--files N]``.

Timed separately (best of R):

- ``settle_many`` on resolved actuals (the engine alone: the issue's figure, target ≤ 2 µs per
  KPI-period), and on actuals as read (checked by ``resolve`` too);
- turning every result into ``Settlement`` objects (``list(result)``), which a caller that only
  needs totals or period rows never does;
- ``settle`` contract by contract on the first ``--baseline`` contracts, for comparison.

Loading: ``--files`` contracts written as YAML (with their actuals CSV) into a temporary folder,
then loaded with ``load_contract`` (libyaml's C loader where PyYAML has it) and, for comparison,
with the pure-Python loader, plus ``read_actuals``. Contract generation is not timed.
Every result is checked equal to ``settle``'s on the baseline contracts before timing.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from portfolio import actuals_rows, contract_data, portfolio  # noqa: E402

import kpixl.model
from kpixl.actuals import read_actuals, resolve
from kpixl.engine.settle import settle
from kpixl.model import contract_from_data, load_contract


def _best(run: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def _write(folder: Path, count: int, periods: int, kpis: int) -> list[tuple[Path, Path]]:
    files = []
    for i in range(count):
        data = contract_data(i, periods, kpis)
        contract = folder / f"c{i:05d}.yaml"
        contract.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        header, rows = actuals_rows(data)
        actuals = folder / f"c{i:05d}.actuals.csv"
        lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
        actuals.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append((contract, actuals))
    return files


def main() -> None:
    """Time settle_many and file loading, and print the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=12)
    parser.add_argument("--kpis", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args()
    items = portfolio(args.contracts, args.periods, args.kpis)
    contracts = [contract for contract, _ in items]
    actuals = [a for _, a in items]
    data = [resolve(contract, a) for contract, a in items]
    kpi_periods = args.contracts * args.periods * args.kpis
    result = kpixl.settle_many(contracts, data)
    check = min(args.baseline, len(items))
    for i in range(check):
        assert repr(result[i]) == repr(settle(contracts[i], data[i])), i
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"{args.contracts:,} contracts x {args.periods} periods x {args.kpis} KPIs = "
          f"{kpi_periods:,} KPI-periods, best of {args.repeat}; fast path for "
          f"{len(items) - len(result.fallback):,}, settle() fallback for "
          f"{len(result.fallback)}; {check:,} results checked equal to settle()")  # fmt: skip
    rows: list[tuple[str, float, int]] = [
        ("settle_many, resolved actuals", _best(lambda: kpixl.settle_many(contracts, data),
                                                 args.repeat), kpi_periods),
        ("settle_many, actuals as read (+resolve)",
         _best(lambda: kpixl.settle_many(contracts, actuals), args.repeat), kpi_periods),
        ("list(result): Settlement objects", _best(lambda: list(result), args.repeat),
         kpi_periods),
    ]  # fmt: skip
    base = items[:check]
    seconds = _best(lambda: [settle(c, d) for (c, _), d in zip(base, data, strict=False)], 1)
    rows.append((f"settle() one by one ({check:,} contracts)", seconds,
                 check * args.periods * args.kpis))  # fmt: skip
    for label, took, count in rows:
        print(f"  {label:44s} {took:8.3f} s  {took / count * 1e6:6.2f} us/KPI-period")
    if args.files:
        _loading(args)


def _loading(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="kpixl-load-") as folder:
        files = _write(Path(folder), args.files, args.periods, args.kpis)
        fast = kpixl.model._FastLoader
        timings = {
            f"load_contract, {'C' if fast else 'Python'} YAML loader": _best(
                lambda: [load_contract(c) for c, _ in files], 1
            ),
        }
        kpixl.model._FastLoader = None
        try:
            timings["load_contract, Python YAML loader"] = _best(
                lambda: [load_contract(c) for c, _ in files], 1
            )
        finally:
            kpixl.model._FastLoader = fast
        timings["read_actuals"] = _best(lambda: [read_actuals(a) for _, a in files], 1)
        texts = [c.read_text(encoding="utf-8") for c, _ in files]
        timings["  of which YAML parse only (C loader)"] = _best(
            lambda: [kpixl.model._load_yaml(t) for t in texts], 1
        )
        parsed = [kpixl.model._load_yaml(t) for t in texts]
        timings["  of which validation only (pydantic)"] = _best(
            lambda: [contract_from_data(d, "x.yaml") for d in parsed], 1
        )
    print(f"loading {args.files:,} contract files (YAML) and their actuals CSV:")
    for label, took in timings.items():
        print(f"  {label:44s} {took:8.3f} s  {took / args.files * 1e3:6.3f} ms/file")


if __name__ == "__main__":
    main()
