"""SHA-256 of input and output files: what the manifest compares to decide whether to rebuild."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kpixl.batch.records import BatchItem
from kpixl.errors import Issue, KpixlError

CODE_UNREADABLE = "KX910"  # an input file cannot be read for hashing
_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex.

    Args:
        path: the file.

    Returns:
        64 hexadecimal digits.

    Raises:
        OSError: the file cannot be read.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def hash_inputs(item: BatchItem) -> dict[str, str]:
    """The SHA-256 of each input file of an item, by role.

    Args:
        item: the batch item.

    Returns:
        ``{"contract": hex, "actuals": hex, ...}`` for the files the item has.

    Raises:
        KpixlError: a file cannot be read (KX910).
    """
    hashes = {}
    for role, path in item.inputs().items():
        try:
            hashes[role] = file_sha256(path)
        except OSError as e:
            issue = Issue(str(path), CODE_UNREADABLE, f"cannot read: {e.strerror or e}")
            raise KpixlError.from_issues([issue]) from e
    return hashes
