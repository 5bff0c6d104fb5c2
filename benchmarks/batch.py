"""Benchmark ``kpixl batch`` against the XlsxWriter floor and the naive openpyxl + formulas path.

All three phases run on the same generated portfolio with the same number of processes:

(a) ``kpixl batch PORTFOLIO -o OUT --jobs N --force`` (load, settle, build with cached values in
    memory, check the built bytes against the template, write atomically, manifest, summaries),
    as a subprocess; each worker builds a workbook shape once and fills further contracts of it
    (``kpixl.workbook.shape``): the cache's hits and misses are printed;
(b) the floor: the very cells of each workbook (a) wrote, read back beforehand, written again as
    bare constants with XlsxWriter by a pool of N processes (nothing computed, no validation);
(c) the naive path on a sample: openpyxl writes each workbook's cells and formulas (no cached
    values), then the ``formulas`` library recalculates it (``evaluate_workbook``), N processes.

Each phase runs in a child process of its own that reports wall time and peak memory as
``resource.getrusage`` sees it: its own peak RSS plus the largest peak of any descendant. The
child makes itself a sub-reaper so that pool workers started from a fork server are counted.

    .venv/bin/python benchmarks/batch.py                   # 1,000 contracts x 12 periods x 8 KPIs
    .venv/bin/python benchmarks/batch.py --contracts 50    # a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import pickle
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.portfolio import contract_data, write_files  # noqa: E402

PR_SET_CHILD_SUBREAPER = 36
Cell = tuple[str, int, int, Any]


def write_portfolio(folder: Path, count: int, periods: int, kpis: int) -> list[str]:
    """Write ``count`` generated contracts (JSON) and their actuals CSV; return the ids."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for i in range(count):
        data = contract_data(i, periods, kpis)
        write_files(folder, data["id"], data)
        ids.append(data["id"])
    return ids


def _become_subreaper() -> None:
    """Adopt orphaned descendants (fork-server workers) so their peak RSS reaches getrusage."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _reap_all() -> None:
    """Wait for every adopted descendant, so its resource usage is accounted to us."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _peak_mb() -> tuple[float, float]:
    """(own peak RSS, largest descendant peak RSS) in MB; Linux reports kilobytes."""
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale / 1e6
    return own, children


def run_phase(phase: str, args: list[str]) -> dict[str, Any]:
    """Run one phase in a fresh child process and return what it reports."""
    command = [sys.executable, __file__, "--phase", phase, *args]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


class TreeSampler:
    """Samples the summed RSS of this process and all its descendants (needs psutil; optional).

    getrusage gives the largest single process; the sum is what the machine must hold at once
    (it counts pages shared after fork more than once, so it errs high).
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.peak = 0
        self.interval = interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        me = psutil.Process()
        while not self.stopped.wait(self.interval):
            total = 0
            for process in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
            self.peak = max(self.peak, total)

    def stop(self) -> float:
        """Stop sampling; the peak in MB (0 without psutil)."""
        self.stopped.set()
        self.thread.join()
        return self.peak / 1e6


def _report(
    started: float, count: int, sampler: TreeSampler, extra: dict[str, Any] | None = None
) -> None:
    wall = time.perf_counter() - started
    tree = sampler.stop()
    _reap_all()
    own, children = _peak_mb()
    print(json.dumps({"wall": wall, "count": count, "self_mb": own, "children_mb": children,
                      "tree_mb": tree, **(extra or {})}))  # fmt: skip


def phase_batch(portfolio: Path, out: Path, jobs: int, count: int) -> None:
    """Run ``kpixl batch`` (forced rebuild) as a subprocess and report, with the shape cache."""
    _become_subreaper()
    command = [sys.executable, "-m", "kpixl", "batch", str(portfolio), "-o", str(out),
               "--jobs", str(jobs), "--force"]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="kpixl-shapes-") as stats:
        # Each worker process keeps its shape-cache counts in STATS/<pid>.json (an env hook).
        env = {**os.environ, "KPIXL_SHAPE_STATS": stats}
        sampler = TreeSampler()
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=env)  # fmt: skip
        counts = [json.loads(p.read_text()) for p in Path(stats).glob("*.json")]
    shapes = {key: sum(c[key] for c in counts) for key in ("hits", "misses", "shapes")}
    _report(started, count, sampler, {**shapes, "processes": len(counts)})


def extract_cells(workbook: Path) -> list[Cell]:
    """Every non-empty cell of a workbook as (sheet, row, column, value), formulas as values."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(workbook))
    cells: list[Cell] = []
    for name in book.sheet_names:
        for r, row in enumerate(book.get_sheet_by_name(name).to_python(skip_empty_area=False)):
            cells.extend((name, r, c, v) for c, v in enumerate(row) if v not in ("", None))
    return cells


def write_constants(job: tuple[Path, Path]) -> int:
    """Write one workbook's cells as bare constants with XlsxWriter; return the cell count."""
    import xlsxwriter

    source, target = job
    cells: list[Cell] = pickle.loads(source.read_bytes())
    book = xlsxwriter.Workbook(str(target), {"in_memory": True})
    sheets: dict[str, Any] = {}
    for name, r, c, value in cells:
        if name not in sheets:
            sheets[name] = book.add_worksheet(name)
        sheet = sheets[name]
        if isinstance(value, bool):
            sheet.write_boolean(r, c, value)
        elif isinstance(value, int | float):
            sheet.write_number(r, c, value)
        else:
            sheet.write_string(r, c, str(value))
    book.close()
    return len(cells)


def _pool_phase(
    work: Callable[[tuple[Path, Path]], int], cells_dir: Path, out: Path, jobs: int, chunk: int
) -> None:
    """Run ``work`` on every pickled workbook of ``cells_dir`` with a pool of ``jobs``."""
    _become_subreaper()
    out.mkdir(parents=True, exist_ok=True)
    jobs_list = [(p, out / f"{p.stem}.xlsx") for p in sorted(cells_dir.glob("*.pickle"))]
    sampler = TreeSampler()
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(work, jobs_list, chunksize=chunk))
    _report(started, len(jobs_list), sampler)


def phase_floor(cells_dir: Path, out: Path, jobs: int) -> None:
    """Write every workbook's cells as constants with a pool of ``jobs`` processes."""
    _pool_phase(write_constants, cells_dir, out, jobs, chunk=8)


def extract_formulas(workbook: Path) -> list[Cell]:
    """Every non-empty cell of a workbook with formulas as text (for the naive writer)."""
    import openpyxl

    book = openpyxl.load_workbook(workbook, data_only=False)
    return [
        (sheet.title, cell.row, cell.column, cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]


def write_and_recalculate(job: tuple[Path, Path]) -> int:
    """openpyxl writes the cells and formulas, then `formulas` recalculates the workbook."""
    import openpyxl

    from kpixl.workbook.evaluate import evaluate_workbook

    source, target = job
    cells: list[Cell] = pickle.loads(source.read_bytes())
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, r, c, value in cells:
        sheet = book[name] if name in book.sheetnames else book.create_sheet(name)
        sheet.cell(r, c, value)
    book.save(target)
    return len(evaluate_workbook(target))


def phase_naive(cells_dir: Path, out: Path, jobs: int) -> None:
    """Write and recalculate the sampled workbooks with a pool of ``jobs`` processes."""
    _pool_phase(write_and_recalculate, cells_dir, out, jobs, chunk=1)


def _prepare_cells(outputs: Path, ids: list[str], target: Path, extract: Any) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for item_id in ids:
        cells = extract(outputs / f"{item_id}.xlsx")
        (target / f"{item_id}.pickle").write_bytes(pickle.dumps(cells))


def check_outputs(outputs: Path, ids: list[str], sample: int) -> str:
    """Untimed: (a) checked its workbooks in memory; the full validator must agree on a sample."""
    from kpixl.workbook.validate import validate_workbook

    chosen = ids[:: max(1, len(ids) // sample)][:sample]
    dirty = [i for i in chosen if validate_workbook(outputs / f"{i}.xlsx")]
    if dirty:
        raise SystemExit(f"kpixl validate finds issues in (a)'s output: {', '.join(dirty)}")
    return f"    (a)'s output: {len(chosen)} workbooks spread over the run pass `kpixl validate`"


def _line(name: str, result: dict[str, Any]) -> str:
    per = result["wall"] / result["count"]
    rate = result["count"] / result["wall"]
    peak = result["self_mb"] + result["children_mb"]
    return (
        f"{name:<32} {result['count']:>5} wb {result['wall']:8.2f} s {rate:7.2f} wb/s "
        f"{per * 1000:8.1f} ms/wb  peak {peak:4.0f} MB (self {result['self_mb']:.0f} + "
        f"largest child {result['children_mb']:.0f}; tree sum {result['tree_mb']:.0f})"
    )


def main() -> None:
    """Generate the portfolio, run the three phases, print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument("--periods", type=int, default=12)
    parser.add_argument("--kpis", type=int, default=8)
    parser.add_argument("--sample", type=int, default=20, help="workbooks for the naive path")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--phase", choices=["a", "b", "c"], help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "a":
        phase_batch(Path(args.paths[0]), Path(args.paths[1]), args.jobs, args.contracts)
        return
    if args.phase in ("b", "c"):
        run = phase_floor if args.phase == "b" else phase_naive
        run(Path(args.paths[0]), Path(args.paths[1]), args.jobs)
        return
    with tempfile.TemporaryDirectory(prefix="kpixl-bench-") as tmp:
        base = Path(tmp)
        ids = write_portfolio(base / "portfolio", args.contracts, args.periods, args.kpis)
        shape = f"{args.contracts} contracts x {args.periods} periods x {args.kpis} KPIs"
        machine = f"{platform.machine()}, Python {platform.python_version()}"
        load = f"load {os.getloadavg()[0]:.1f}"
        print(f"{shape}, {args.jobs} processes, {machine}, {load}", flush=True)
        common = ["--jobs", str(args.jobs), "--contracts", str(args.contracts)]
        a = run_phase("a", [*common, str(base / "portfolio"), str(base / "a")])
        print(_line("(a) kpixl batch", a), flush=True)
        built = a["hits"] + a["misses"]
        print(f"    per-shape cache: {a['hits']} hits, {a['misses']} misses "
              f"({a['hits'] / max(built, 1):.1%} hit rate; {a['shapes']} shapes cached over "
              f"{a['processes']} processes)", flush=True)  # fmt: skip
        print(check_outputs(base / "a", ids, args.sample), flush=True)
        _prepare_cells(base / "a", ids, base / "cells", extract_cells)
        b = run_phase("b", [*common, str(base / "cells"), str(base / "b")])
        print(_line("(b) floor: XlsxWriter constants", b), flush=True)
        sample = ids[: args.sample]
        _prepare_cells(base / "a", sample, base / "formulas", extract_formulas)
        c = run_phase("c", [*common, str(base / "formulas"), str(base / "c")])
        print(_line("(c) naive: openpyxl + formulas", c), flush=True)
        per = {name: r["wall"] / r["count"] for name, r in (("a", a), ("b", b), ("c", c))}
        print(f"a/b = {per['a'] / per['b']:.2f} (target <= 1.5)   "
              f"shape cache hit rate = {a['hits'] / max(a['hits'] + a['misses'], 1):.1%}   "
              f"c/a = {per['c'] / per['a']:.0f} per workbook (target >= 50)   "
              f"peak (a) = {a['self_mb'] + a['children_mb']:.0f} MB (target <= 500)")  # fmt: skip


if __name__ == "__main__":
    main()
