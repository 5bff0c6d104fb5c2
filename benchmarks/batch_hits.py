"""CPU time of one ``kpixl batch`` item built from a cached shape (a hit), in one process.

``benchmarks/batch.py`` measures wall time over two processes, which a loaded machine inflates;
this measures the process's CPU time per item over ``--contracts`` generated 12 × 8 contracts
after one contract of every shape has been built (so every measured item is a hit), through
``kpixl.batch.item.build_item`` (read inputs' bytes, settle, build, check; nothing written).
The digest printed at the end identifies the bytes built: two versions of kpixl that print the
same digest built the same workbooks.

    .venv/bin/python benchmarks/batch_hits.py                 # 100 hits
    .venv/bin/python benchmarks/batch_hits.py --profile       # and the top of a cProfile
    .venv/bin/python benchmarks/batch_hits.py --floor         # and hit ÷ floor, alternated

``--floor`` then writes each hit's cells as bare constants with the floor of
``benchmarks/batch.py`` (``write_constants``), alternating hit and floor over the same
workbooks twice, and prints both CPU times per workbook and their ratio (one process: the
load inflates both alike).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pickle
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.portfolio import contract_data, write_files  # noqa: E402
from kpixl.batch.item import build_item  # noqa: E402
from kpixl.batch.records import BatchItem, ItemPayload, ItemTask  # noqa: E402
from kpixl.workbook.shape import cache_stats  # noqa: E402

#: The generator's shapes repeat every 12 contracts (settlement i % 3, curves (i + k) % 4).
WARM = 12


def payloads(folder: Path, count: int) -> list[ItemPayload]:
    """``count`` generated contracts with their actuals, as batch payloads."""
    out = []
    for i in range(count):
        data = contract_data(i, 12, 8)
        write_files(folder, data["id"], data)
        item = BatchItem(data["id"], folder / f"{data['id']}.json",
                         folder / f"{data['id']}.actuals.csv")  # fmt: skip
        task = ItemTask(i, item, folder / "out", "native")
        out.append(ItemPayload(task, {r: p.read_bytes() for r, p in item.inputs().items()}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=100, help="hits to measure")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the hits")
    parser.add_argument("--floor", action="store_true", help="and hit ÷ floor, alternated")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kpixl-hits-") as tmp:
        items = payloads(Path(tmp), args.contracts + WARM)
    for payload in items[:WARM]:
        build_item(payload)
    hits = items[WARM:]
    before = cache_stats()
    profile = cProfile.Profile() if args.profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profile is not None:
        profile.enable()
    digests = [str(build_item(payload).result.output_sha256) for payload in hits]
    if profile is not None:
        profile.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    after = cache_stats()
    per_cpu, per_wall = 1000 * cpu / len(hits), 1000 * wall / len(hits)
    print(f"{len(hits)} items, {after['hits'] - before['hits']} hits: "
          f"{per_cpu:.1f} ms CPU per item ({per_wall:.1f} ms wall)")  # fmt: skip
    print("digest", hashlib.sha256("".join(digests).encode()).hexdigest()[:16])
    if profile is not None:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    if args.floor:
        floor(hits)


def floor(hits: list[ItemPayload], rounds: int = 2) -> None:
    """Alternate each hit with the floor writing the same workbook's cells; print the CPU."""
    from benchmarks.batch import extract_cells, write_constants

    with tempfile.TemporaryDirectory(prefix="kpixl-floor-") as tmp:
        folder = Path(tmp)
        jobs = []
        for i, payload in enumerate(hits):
            built = build_item(payload).workbook
            assert built is not None
            (folder / f"{i}.xlsx").write_bytes(built)
            cells = folder / f"{i}.pickle"
            cells.write_bytes(pickle.dumps(extract_cells(folder / f"{i}.xlsx")))
            jobs.append((cells, folder / f"{i}.floor.xlsx"))
        hit = bare = 0.0
        for _ in range(rounds):
            for payload, job in zip(hits, jobs, strict=True):
                started = time.process_time()
                build_item(payload)
                hit += time.process_time() - started
                started = time.process_time()
                write_constants(job)
                bare += time.process_time() - started
    count = rounds * len(hits)
    print(f"alternated: hit {1000 * hit / count:.1f} ms CPU, floor {1000 * bare / count:.1f} "
          f"ms CPU per workbook: hit / floor = {hit / bare:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
