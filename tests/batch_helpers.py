"""Portfolios on disk for the batch tests: copies of the bundled examples, generated contracts."""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.portfolio import contract_data, write_files
from kpixl.batch.hashing import file_sha256

EXAMPLES = Path(__file__).resolve().parents[1] / "workbooks" / "examples"


def copy_examples(folder: Path) -> Path:
    """Copy the bundled example contracts, actuals and adjustments into a new folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for file in EXAMPLES.iterdir():
        if file.is_file():
            shutil.copy2(file, folder / file.name)
    return folder


def write_generated(folder: Path, count: int, periods: int = 3, kpis: int = 2) -> Path:
    """Write ``count`` generated contracts (JSON) with their actuals CSV into a folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        write_files(folder, f"gen-{i:03d}", contract_data(i, periods, kpis))
    return folder


def workbook_hashes(out: Path) -> dict[str, str]:
    """SHA-256 of every workbook and portfolio output in OUTDIR, by file name."""
    names = [p for p in sorted(out.iterdir()) if p.suffix in (".xlsx", ".csv")]
    return {p.name: file_sha256(p) for p in names}


def stamps(out: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime in ns) of every contract workbook: unchanged means not rewritten."""
    return {
        p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted(out.glob("*.xlsx"))
        if p.name != "summary.xlsx"
    }
