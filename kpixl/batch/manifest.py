"""The batch manifest: what each workbook in OUTDIR was built from, so a rerun can skip it.

``OUTDIR/manifest.json`` holds, per item, the SHA-256 of every input file, the kpixl version,
the formula mode, the SHA-256 of the workbook written and the item's summary rows. It is only
ever replaced whole and atomically, and an entry is recorded only after its workbook is in
place, so after a crash it can lag behind the workbooks (which only causes redo) but never
claims a workbook that is not there.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kpixl.atomic import atomic_write_text
from kpixl.batch.hashing import file_sha256
from kpixl.batch.records import ItemResult, Mode, PeriodRow

MANIFEST = "manifest.json"
FORMAT = "kpixl-batch-manifest"
FORMAT_VERSION = 1


class Manifest:
    """The manifest of one output folder, saved at most once per interval while a batch runs."""

    def __init__(self, out_dir: Path, version: str, mode: Mode, interval: float = 1.0) -> None:
        self.path = out_dir / MANIFEST
        self.version = version
        self.mode = mode
        self.interval = interval
        self.entries: dict[str, dict[str, Any]] = _load_entries(self.path)
        self.dirty = False
        self.saved_at = time.monotonic()

    def up_to_date(self, item_id: str, inputs: dict[str, str], output: Path) -> ItemResult | None:
        """The recorded result of an item when nothing it depends on changed, else None.

        Args:
            item_id: the item.
            inputs: the current SHA-256 of each input file, by role.
            output: the workbook the item writes.

        Returns:
            A ``skipped`` result with the recorded summary rows when the inputs, kpixl version
            and formula mode match the manifest and the workbook exists with the recorded hash.
        """
        entry = self.entries.get(item_id)
        if (
            entry is None
            or entry.get("kpixl") != self.version
            or entry.get("formulas") != self.mode
        ):
            return None
        try:
            recorded = {role: value["sha256"] for role, value in entry["inputs"].items()}
            digest = str(entry["output"]["sha256"])
            rows = tuple(PeriodRow(**row) for row in entry.get("rows", []))
            if recorded != inputs or file_sha256(output) != digest:
                return None
            currency, decimals = str(entry["currency"]), int(entry["decimals"])
        # A missing or unreadable workbook, or an entry of another shape: build it again.
        except (OSError, TypeError, KeyError, AttributeError, ValueError):
            return None
        return ItemResult(item_id, "skipped", inputs, digest, currency, decimals, rows)

    def record(self, result: ItemResult, files: dict[str, Path]) -> None:
        """Record a workbook just written (``ok``), or forget an item that failed.

        Args:
            result: the item's result.
            files: the item's input files by role (their paths are kept for readers).
        """
        if result.status == "failed":
            self.dirty |= self.entries.pop(result.id, None) is not None
            return
        self.entries[result.id] = {
            "inputs": {
                role: {"path": str(files[role]), "sha256": digest}
                for role, digest in sorted(result.inputs.items())
            },
            "kpixl": self.version,
            "formulas": self.mode,
            "output": {"file": f"{result.id}.xlsx", "sha256": result.output_sha256},
            "currency": result.currency,
            "decimals": result.decimals,
            "rows": [asdict(row) for row in result.rows],
        }
        self.dirty = True

    def keep_only(self, ids: set[str]) -> None:
        """Drop entries of items no longer in the portfolio."""
        for item_id in set(self.entries) - ids:
            del self.entries[item_id]
            self.dirty = True

    def save_if_due(self) -> None:
        """Save when something changed and the interval has passed since the last save."""
        if self.dirty and time.monotonic() - self.saved_at >= self.interval:
            self.save()

    def save(self) -> None:
        """Write the whole manifest atomically (temporary file, fsync, rename)."""
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "items": {key: self.entries[key] for key in sorted(self.entries)},
        }
        atomic_write_text(self.path, json.dumps(document, indent=1, ensure_ascii=False) + "\n")
        self.dirty = False
        self.saved_at = time.monotonic()


def _load_entries(path: Path) -> dict[str, dict[str, Any]]:
    """The entries of an existing manifest; an unreadable or foreign one counts as empty."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return {}
    if document.get("format_version") != FORMAT_VERSION:
        return {}
    items = document.get("items")
    if not isinstance(items, dict):
        return {}
    return {str(key): value for key, value in items.items() if isinstance(value, dict)}
