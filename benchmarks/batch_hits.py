"""CPU time of one ``kpixl batch`` item built from a cached shape (a hit), in one process.

``benchmarks/batch.py`` measures wall time over two processes, which a loaded machine inflates;
this measures the process's CPU time per item over ``--contracts`` generated 12 × 8 contracts
after one contract of every shape has been built (so every measured item is a hit), through
``kpixl.batch.item.build_item`` (read inputs' bytes, settle, build, check; nothing written).
The digest printed at the end identifies the bytes built: two versions of kpixl that print the
same digest built the same workbooks.

    .venv/bin/python benchmarks/batch_hits.py                 # 100 hits
    .venv/bin/python benchmarks/batch_hits.py --profile       # and the top of a cProfile
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
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


if __name__ == "__main__":
    main()
