"""The batch manifest: what each workbook in OUTDIR was built from, so a rerun can skip it.

``OUTDIR/manifest.json`` holds, per item, the SHA-256 of every input file, the kpixl version,
the formula mode, the SHA-256 of the workbook written and the item's summary rows. It is only
ever replaced whole and atomically.

While a batch runs, each finished item is recorded durably the moment its workbook is in place:
one JSON line appended to ``OUTDIR/manifest.journal``, flushed and fsynced. The journal is folded
into ``manifest.json`` (then removed) at the end of the run and at the start of the next, so
after ``kill -9`` at any moment the rerun knows every finished item. A line is written only
after its workbook is renamed into place, so the record can lag a workbook (which costs one
rebuild) but never claims one that is not there; a line torn by the kill is ignored.
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path
from typing import IO, Any

from kpixl.atomic import atomic_write_text
from kpixl.batch.hashing import file_sha256
from kpixl.batch.records import ItemResult, Mode, PeriodRow

MANIFEST = "manifest.json"
JOURNAL = "manifest.journal"
FORMAT = "kpixl-batch-manifest"
FORMAT_VERSION = 1


class Manifest:
    """The manifest of one output folder, with its journal of items finished since it was saved.

    Opening it folds a journal left by an interrupted run into ``manifest.json``.
    """

    def __init__(
        self, out_dir: Path, version: str, mode: Mode, encoding: str | None = None
    ) -> None:
        self.path = out_dir / MANIFEST
        self.journal_path = out_dir / JOURNAL
        self.version = version
        self.mode = mode
        #: ``--encoding`` of the CSV inputs: a workbook read with another one is built again.
        self.encoding = encoding
        self.entries, replayed = read_entries(out_dir)
        self.dirty = False
        self.journal: IO[bytes] | None = None
        if replayed:
            self.save()

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
            or entry.get("encoding") != self.encoding
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
        """Record, durably, a workbook just written (``ok``), or forget an item that failed.

        Args:
            result: the item's result.
            files: the item's input files by role (their paths are kept for readers).
        """
        if result.status == "failed":
            if self.entries.pop(result.id, None) is not None:
                self.dirty = True
                self._append({"id": result.id, "drop": True})
            return
        entry = {
            "inputs": {
                role: {"path": str(files[role]), "sha256": digest}
                for role, digest in sorted(result.inputs.items())
            },
            "kpixl": self.version,
            "formulas": self.mode,
            "output": {"file": f"{result.id}.xlsx", "sha256": result.output_sha256},
            "currency": result.currency,
            "decimals": result.decimals,
            "rows": [_row(row) for row in result.rows],
        }
        if self.encoding is not None:  # absent when not given: older manifests stay current
            entry["encoding"] = self.encoding
        self.entries[result.id] = entry
        self.dirty = True
        self._append({"id": result.id, "entry": entry})

    def _append(self, line: dict[str, Any]) -> None:
        """Append one line to the journal, flushed and fsynced before returning."""
        if self.journal is None:
            self.journal = open(self.journal_path, "ab")  # noqa: SIM115 - open for the whole run
            _fsync_directory(self.path.parent)  # the journal's own name survives a power loss
        text = json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n"
        self.journal.write(text.encode("utf-8"))
        self.journal.flush()
        os.fsync(self.journal.fileno())

    def keep_only(self, ids: set[str]) -> None:
        """Drop entries of items no longer in the portfolio."""
        for item_id in set(self.entries) - ids:
            del self.entries[item_id]
            self.dirty = True

    def save(self) -> None:
        """Fold everything into ``manifest.json`` (atomically), then remove the journal."""
        # One item per line: readable, and written by json's C encoder (an indented document
        # goes through its pure-Python one, ~0.5 s for 1,000 items).
        head = json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION})[:-1]
        items = ",\n".join(
            f"  {json.dumps(key, ensure_ascii=False)}: "
            + json.dumps(self.entries[key], ensure_ascii=False, separators=(",", ":"))
            for key in sorted(self.entries)
        )
        body = f'{head}, "items": {{\n{items}\n}}}}\n' if items else f'{head}, "items": {{}}}}\n'
        atomic_write_text(self.path, body)
        self.close()
        self.journal_path.unlink(missing_ok=True)
        self.dirty = False

    def close(self) -> None:
        """Close the journal (its lines are already on disk)."""
        if self.journal is not None:
            self.journal.close()
            self.journal = None


def _row(row: PeriodRow) -> dict[str, Any]:
    """A summary row as the manifest keeps it (``asdict`` deep-copies every value: slower)."""
    return {name: getattr(row, name) for name in _ROW_FIELDS}


_ROW_FIELDS = tuple(field.name for field in fields(PeriodRow))


def read_entries(out_dir: Path) -> tuple[dict[str, dict[str, Any]], bool]:
    """The items recorded in an output folder: ``manifest.json`` with its journal replayed.

    Args:
        out_dir: the output folder.

    Returns:
        The entries by item id, and whether a journal had any line to replay. A line that is not
        complete JSON (torn by a kill while it was appended) is ignored.
    """
    entries = _load_entries(out_dir / MANIFEST)
    try:
        lines = (out_dir / JOURNAL).read_bytes().split(b"\n")
    except OSError:
        return entries, False
    replayed = False
    for raw in lines:
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(line, dict) or not isinstance(line.get("id"), str):
            continue
        replayed = True
        if isinstance(line.get("entry"), dict):
            entries[line["id"]] = line["entry"]
        elif line.get("drop") is True:
            entries.pop(line["id"], None)
    return entries, replayed


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder; NTFS journals the new name itself
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
