"""Render the sheets of a workbook to PNG pictures with LibreOffice (PDF) and pdftoppm.

Usage: python scripts/render_workbook.py IN.xlsx OUT_DIR [--sheets Quote,Settlement]
                                         [--dpi 110] [--layout sheet|print]

Formulas are recalculated on load. ``--layout sheet`` (default, for README pictures) exports
one page per sheet, cropped to its used area, and writes ``OUT_DIR/<stem>-<sheet>.png`` for
the chosen sheets. ``--layout print`` follows the workbook's own print settings (landscape,
fit to one page wide) and writes every page as ``OUT_DIR/<stem>-<n>.png``. Needs soffice,
pdftoppm and, for Chinese labels, a CJK font: scripts/install_libreoffice.sh --fonts.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.libreoffice import INSTALL_HINT, convert_with_libreoffice  # noqa: E402  # after sys.path

# LibreOffice >= 7.4 takes PDF export options as JSON on the command line. With
# SinglePageSheets every sheet (hidden and empty ones included) is exactly one page, in order.
_SINGLE_PAGE_PDF = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'
_SHEET_NAME = re.compile(rb'<sheet\b[^>]*?\bname="([^"]*)"')
_UNSAFE = re.compile(r"[^\w.-]+")
_PDFTOPPM_TIMEOUT = 120


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and render the pictures.

    Args:
        argv: arguments without the program name; defaults to sys.argv[1:].

    Returns:
        The exit code: 0 done, 1 rendering failed, 2 usage error.
    """
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("workbook", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--sheets", help="comma-separated sheet names (default: all sheets)")
    parser.add_argument("--dpi", type=int, default=110)
    parser.add_argument("--layout", choices=["sheet", "print"], default="sheet")
    args = parser.parse_args(argv)
    sheets = [name.strip() for name in args.sheets.split(",")] if args.sheets else None
    if sheets and args.layout == "print":
        parser.error("--sheets needs --layout sheet (printed pages do not map to sheets)")
    try:
        if args.layout == "print":
            pictures = render_pages(args.workbook, args.out_dir, args.dpi)
        else:
            pictures = render_sheets(args.workbook, args.out_dir, sheets, args.dpi)
    except (RuntimeError, ValueError, OSError, subprocess.SubprocessError) as exc:
        print(f"render_workbook: {exc}", file=sys.stderr)
        return 1
    for picture in pictures:
        print(picture)
    return 0


def render_sheets(
    workbook: Path, out_dir: Path, sheets: list[str] | None = None, dpi: int = 110
) -> list[Path]:
    """Render chosen sheets, each as one picture cropped to its used area.

    Args:
        workbook: the .xlsx file.
        out_dir: where the PNG files go (created if needed).
        sheets: names of the sheets to render; None for every sheet that is not hidden.
        dpi: resolution of the pictures.

    Returns:
        The PNG files, one per sheet, named ``<stem>-<sheet>.png``.
    """
    names, hidden = _sheet_names(workbook)
    wanted = sheets if sheets is not None else [n for n in names if n not in hidden]
    missing = [name for name in wanted if name not in names]
    if missing:
        raise ValueError(f"no sheet named {', '.join(missing)} in {workbook.name}")
    pdftoppm = _pdftoppm()
    out_dir.mkdir(parents=True, exist_ok=True)
    pictures = []
    with tempfile.TemporaryDirectory(prefix="kpixl-render-") as work:
        pdf = convert_with_libreoffice(workbook, Path(work), _SINGLE_PAGE_PDF)
        for name in wanted:
            page = str(names.index(name) + 1)
            prefix = out_dir / f"{workbook.stem}-{_UNSAFE.sub('_', name)}"
            command = [pdftoppm, "-png", "-r", str(dpi), "-f", page, "-l", page, "-singlefile"]
            subprocess.run([*command, str(pdf), str(prefix)], check=True, timeout=_PDFTOPPM_TIMEOUT)
            pictures.append(prefix.with_suffix(".png"))
    return pictures


def render_pages(workbook: Path, out_dir: Path, dpi: int = 110) -> list[Path]:
    """Render every printed page, laid out by the workbook's print settings.

    Args:
        workbook: the .xlsx file.
        out_dir: where the PNG files go (created if needed).
        dpi: resolution of the pictures.

    Returns:
        The PNG files in page order, named ``<stem>-<n>.png``.
    """
    pdftoppm = _pdftoppm()
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(f"{workbook.stem}-*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="kpixl-render-") as work:
        pdf = convert_with_libreoffice(workbook, Path(work), "pdf")
        prefix = out_dir / workbook.stem
        command = [pdftoppm, "-png", "-r", str(dpi), str(pdf), str(prefix)]
        subprocess.run(command, check=True, timeout=_PDFTOPPM_TIMEOUT)
    return sorted(out_dir.glob(f"{workbook.stem}-*.png"))


def _pdftoppm() -> str:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise RuntimeError(f"pdftoppm (poppler-utils) is not installed; {INSTALL_HINT}")
    return pdftoppm


def _sheet_names(workbook: Path) -> tuple[list[str], set[str]]:
    """Sheet names in workbook order, and the hidden ones, read from xl/workbook.xml."""
    with zipfile.ZipFile(workbook) as archive:
        xml = archive.read("xl/workbook.xml")
    names, hidden = [], set()
    for element in re.finditer(rb"<sheet\b[^>]*>", xml):
        match = _SHEET_NAME.match(element.group(0))
        if match is None:
            continue
        name = html.unescape(match.group(1).decode("utf-8"))
        names.append(name)
        if re.search(rb'\bstate="(?:hidden|veryHidden)"', element.group(0)):
            hidden.add(name)
    return names, hidden


if __name__ == "__main__":
    sys.exit(main())
