"""Atomic writes: the destination is always either the old complete file or the new one."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kpixl.atomic import (
    atomic_path,
    atomic_write,
    atomic_write_bytes,
    atomic_write_text,
    is_atomic_temp,
)

OLD = b"old complete content\n" * 100


def _leftovers(folder: Path) -> list[Path]:
    """List the temporary files an atomic write left in a folder."""
    return [p for p in folder.iterdir() if is_atomic_temp(p)]


def _current_umask() -> int:
    """Read the process umask without changing it for longer than one call."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_success_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    target.write_bytes(OLD)
    with atomic_write(target) as handle:
        handle.write(b"new")
        # Until the block ends, readers still see the old file.
        assert target.read_bytes() == OLD
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


def test_creates_a_missing_file_with_umask_permissions(tmp_path: Path) -> None:
    target = tmp_path / "fresh.csv"
    atomic_write_text(target, "a,b\r\n1,2\n")
    assert target.read_bytes() == b"a,b\r\n1,2\n"
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_current_umask()


def test_exception_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    target.write_bytes(OLD)

    class Boom(RuntimeError):
        pass

    with pytest.raises(Boom), atomic_write(target) as handle:
        handle.write(b"half a workbook")
        raise Boom
    assert target.read_bytes() == OLD
    assert _leftovers(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]


def test_keyboard_interrupt_also_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    target.write_bytes(OLD)
    with pytest.raises(KeyboardInterrupt), atomic_write(target) as handle:
        handle.write(b"partial")
        raise KeyboardInterrupt
    assert target.read_bytes() == OLD
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and permission bits are POSIX")
def test_sigkill_mid_write_leaves_old_file_complete(tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    target.write_bytes(OLD)
    script = textwrap.dedent(
        f"""
        import sys, time
        from kpixl.atomic import atomic_write
        with atomic_write({str(target)!r}) as handle:
            handle.write(b"x" * 1_000_000)
            handle.flush()
            print("writing", flush=True)
            time.sleep(60)
            handle.write(b"never")
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"writing\n"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert target.read_bytes() == OLD
    leftovers = _leftovers(tmp_path)
    assert len(leftovers) == 1
    assert leftovers[0].name.startswith("book.xlsx.")
    assert leftovers[0].stat().st_size == 1_000_000
    # A leftover is not mistaken for a workbook by a glob on the real suffix.
    assert [p.name for p in tmp_path.glob("*.xlsx")] == ["book.xlsx"]


@pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX")
@pytest.mark.parametrize("mode", [0o640, 0o600, 0o755, 0o444])
def test_permissions_are_preserved(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "book.xlsx"
    target.write_bytes(OLD)
    target.chmod(mode)
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == mode


@pytest.mark.skipif(os.name != "posix", reason="symlinks need privileges on Windows")
def test_symlink_keeps_pointing_at_the_updated_file(tmp_path: Path) -> None:
    real = tmp_path / "real.xlsx"
    real.write_bytes(OLD)
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    atomic_write_bytes(link, b"new")
    assert link.is_symlink()
    assert real.read_bytes() == b"new"


def test_atomic_path_for_writers_that_take_a_file_name(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(OLD)
    target.chmod(0o640)
    with atomic_path(target) as temp:
        assert temp.parent == tmp_path
        assert is_atomic_temp(temp)
        temp.unlink()  # a writer may recreate the file from scratch
        temp.write_bytes(b"by name")
        assert target.read_bytes() == OLD
    assert target.read_bytes() == b"by name"
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert _leftovers(tmp_path) == []


def test_atomic_path_failure_removes_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(OLD)
    with pytest.raises(OSError, match="disk full"), atomic_path(target) as temp:
        temp.write_bytes(b"partial")
        raise OSError("disk full")
    assert target.read_bytes() == OLD
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("book.xlsx.0123456789ab.tmp", True),
        ("book.xlsx.0123456789AB.tmp", False),
        ("book.xlsx.tmp", False),
        (".0123456789ab.tmp", False),
        ("book.xlsx", False),
        ("manifest.json.abcdefabcdef.tmp", True),
    ],
)
def test_recognises_leftover_temp_names(name: str, expected: bool) -> None:
    assert is_atomic_temp(name) is expected
