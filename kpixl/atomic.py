"""Crash-safe file writes: a temporary file in the same folder, fsync, then os.replace."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"

# O_BINARY exists only on Windows; without it os.open would translate newlines there.
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
_TOKEN_BYTES = 6
_MAX_NAME_ATTEMPTS = 100


def is_atomic_temp(path: str | os.PathLike[str]) -> bool:
    """Tell whether a file name looks like a leftover temporary file of an interrupted write.

    Args:
        path: any file path.

    Returns:
        True for names of the form ``<name>.<12 hex digits>.tmp``.
    """
    name = Path(path).name
    if not name.endswith(TEMP_SUFFIX):
        return False
    stem = name[: -len(TEMP_SUFFIX)]
    base, dot, token = stem.rpartition(".")
    return bool(base and dot) and len(token) == 2 * _TOKEN_BYTES and _is_hex(token)


def _is_hex(text: str) -> bool:
    """Tell whether text is made of lowercase hexadecimal digits only."""
    return all(char in "0123456789abcdef" for char in text)


def _resolve_destination(path: str | os.PathLike[str]) -> Path:
    """Return the real file the write must land on (a symlink keeps pointing at it)."""
    return Path(os.path.realpath(path))


def _create_temp(destination: Path) -> tuple[Path, int]:
    """Create a fresh temporary file beside the destination and return its path and descriptor."""
    for _ in range(_MAX_NAME_ATTEMPTS):
        token = secrets.token_hex(_TOKEN_BYTES)
        temp = destination.with_name(f"{destination.name}.{token}{TEMP_SUFFIX}")
        try:
            # 0o666 lets the process umask decide, like an ordinary open(path, "w").
            return temp, os.open(temp, _OPEN_FLAGS, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {destination}")


def _copy_permissions(destination: Path, fd: int) -> None:
    """Give the temporary file the permission bits of the file it replaces, when there is one."""
    try:
        mode = stat.S_IMODE(destination.stat().st_mode)
    except FileNotFoundError:
        return
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)


def _fsync_directory(directory: Path) -> None:
    """Flush the directory entry so the rename itself survives a power loss."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        # Windows cannot open a directory; its rename is already journalled by NTFS.
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _discard(temp: Path) -> None:
    """Remove a temporary file, ignoring that it may already be gone."""
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()


def _commit(temp: Path, destination: Path) -> None:
    """Move the finished temporary file over the destination and make the rename durable."""
    os.replace(temp, destination)
    _fsync_directory(destination.parent)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Write a file so that readers see either the old complete file or the new complete one.

    The body writes into ``<name>.<random>.tmp`` in the destination's folder; on a normal exit
    the file is flushed, fsynced and renamed over the destination (keeping its permission bits);
    on any exception it is removed and the destination is left untouched.

    Args:
        path: the file to create or replace.

    Returns:
        A context manager yielding a binary file object open for writing.
    """
    destination = _resolve_destination(path)
    temp, fd = _create_temp(destination)
    try:
        with os.fdopen(fd, "wb") as handle:
            _copy_permissions(destination, handle.fileno())
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _commit(temp, destination)
    except BaseException:
        # BaseException too: a KeyboardInterrupt must not leave a stray temporary file.
        _discard(temp)
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Give a temporary path to a writer that wants a file name, then commit it atomically.

    For libraries that open the file themselves (XlsxWriter, pandas). The temporary file exists
    and is empty when the body starts; the body may overwrite or recreate it.

    Args:
        path: the file to create or replace.

    Returns:
        A context manager yielding the temporary path to write to.
    """
    destination = _resolve_destination(path)
    temp, fd = _create_temp(destination)
    os.close(fd)
    try:
        yield temp
        _fsync_file(temp)
        _apply_permissions(destination, temp)
        _commit(temp, destination)
    except BaseException:
        _discard(temp)
        raise


def _fsync_file(path: Path) -> None:
    """Flush a file written by someone else to stable storage."""
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _apply_permissions(destination: Path, temp: Path) -> None:
    """Copy the destination's permission bits onto a temporary file given by path."""
    try:
        mode = stat.S_IMODE(destination.stat().st_mode)
    except FileNotFoundError:
        return
    os.chmod(temp, mode)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace a file's content with data, atomically.

    Args:
        path: the file to create or replace.
        data: the complete new content.
    """
    with atomic_write(path) as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Replace a file's content with text, atomically; newlines are written as given.

    Args:
        path: the file to create or replace.
        text: the complete new content.
        encoding: the text encoding.
    """
    atomic_write_bytes(path, text.encode(encoding))
