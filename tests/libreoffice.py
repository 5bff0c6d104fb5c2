"""Recalculate a workbook with headless LibreOffice (test helper; also used by scripts)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from kpixl.documents.pdf import run_soffice

TIMEOUT_SECONDS = 120
INSTALL_HINT = "install it with scripts/install_libreoffice.sh (CI runs it before the tests)"

# Without these two settings LibreOffice keeps the cached values stored in the file
# ("never recalculate" is its default for files it did not write itself).
_FORCE_RECALC = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice_path() -> str | None:
    """Find the LibreOffice binary.

    Returns:
        The path of ``soffice`` (or ``libreoffice``) on PATH, or None when not installed.
    """
    return shutil.which("soffice") or shutil.which("libreoffice")


def recalc_with_libreoffice(src: Path, out_dir: Path) -> Path:
    """Open a workbook in LibreOffice, recalculate every formula and save it as xlsx.

    Args:
        src: the workbook to recalculate (not modified).
        out_dir: folder for the result; must not be the folder of ``src``.

    Returns:
        The recalculated copy, ``out_dir / (src.stem + ".xlsx")``.
    """
    return convert_with_libreoffice(src, out_dir, "xlsx")


def convert_with_libreoffice(src: Path, out_dir: Path, target: str) -> Path:
    """Convert a workbook with ``soffice --convert-to TARGET`` after a forced recalculation.

    Args:
        src: the input file.
        out_dir: folder for the result; must not be the folder of ``src``.
        target: the ``--convert-to`` argument, e.g. ``xlsx`` or ``pdf`` (filter options allowed).

    Returns:
        The converted file.
    """
    src, out_dir = src.resolve(), out_dir.resolve()
    if src.parent == out_dir:
        raise ValueError(f"out_dir must differ from the folder of {src} (it would be overwritten)")
    (out_dir / f"{src.stem}.{target.split(':', 1)[0]}").unlink(missing_ok=True)
    return convert_many([src], out_dir, target)[0]


def convert_many(sources: list[Path], out_dir: Path, target: str = "xlsx") -> list[Path]:
    """Convert many workbooks with one LibreOffice start (forced recalculation, as above).

    Args:
        sources: the input files; their names must differ, and none may be in ``out_dir``.
        out_dir: folder for the results.
        target: the ``--convert-to`` argument.

    Returns:
        The converted files, in the order of ``sources``.
    """
    soffice = soffice_path()
    if soffice is None:
        raise RuntimeError(f"LibreOffice (soffice) is not installed; {INSTALL_HINT}")
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    results = [out_dir / f"{src.stem}.{target.split(':', 1)[0]}" for src in sources]
    with tempfile.TemporaryDirectory(prefix="kpixl-lo-profile-") as profile:
        _write_profile(Path(profile))
        command = [
            soffice,
            "--headless",
            "--norestore",
            "--nolockcheck",
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--convert-to",
            target,
            "--outdir",
            str(out_dir),
            *(str(src.resolve()) for src in sources),
        ]
        output = run_soffice(command, TIMEOUT_SECONDS)
    missing = [str(result) for result in results if not result.is_file()]
    if missing:
        raise RuntimeError(f"soffice did not write {', '.join(missing)}; its output was:\n{output}")
    return results


def _write_profile(profile: Path) -> None:
    user = profile / "user"
    user.mkdir(parents=True)
    (user / "registrymodifications.xcu").write_text(_FORCE_RECALC, encoding="utf-8")
