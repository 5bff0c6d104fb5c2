"""``kpixl pdf``: print a workbook's client-facing sheets to PDF through headless LibreOffice.

Only a workbook that passes kpixl's safe loading (package ceilings, hazard scan) and reads as a
kpixl workbook reaches LibreOffice, and then only as a temporary copy: the Statement period set
(``--period``), every formula's cached value recomputed by kpixl's engine, the sheets not asked
for hidden. LibreOffice runs with a throwaway profile that disables macros and never
recalculates (it prints kpixl's cached values, so udf-mode workbooks print too). The PDF's
dates and document id are fixed afterwards, so the same workbook gives the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from kpixl.atomic import atomic_write_bytes
from kpixl.errors import Issue, KpixlError, WorkbookError
from kpixl.workbook.hazards import scan_hazards
from kpixl.workbook.layout import META, STATEMENT, Layout
from kpixl.workbook.pick import prepare_copy, sheet_names
from kpixl.workbook.read import read_workbook
from kpixl.workbook.recalc import recalc
from kpixl.workbook.safety import DEFAULT_LIMITS, open_package
from kpixl.workbook.statement import StatementLayout

DEFAULT_SHEETS = ("Quote", STATEMENT)
CODE_NO_SOFFICE = "KX850"  # LibreOffice is not installed
CODE_UNKNOWN_SHEET = "KX851"  # --sheets names a sheet the workbook does not have
CODE_UNKNOWN_PERIOD = "KX852"  # --period is not a period of the contract
CODE_SOFFICE_FAILED = "KX853"  # LibreOffice failed or wrote no PDF
CODE_REFUSED = "KX854"  # the workbook failed safe loading or the hazard scan
INSTALL_HINT = (
    "install LibreOffice and a CJK font, e.g. on Debian/Ubuntu "
    "`sudo apt-get install libreoffice-calc-nogui fonts-noto-cjk` "
    "(or run scripts/install_libreoffice.sh --fonts); on macOS `brew install --cask libreoffice`"
)
TIMEOUT_SECONDS = 180
#: The throwaway profile: macros never run (highest security level, execution disabled) and
#: formulas are never recalculated on load (kpixl has just stored the engine's values).
PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting">\
<prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting">\
<prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>1</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>1</value></prop></item>
</oor:items>
"""
_DATE = re.compile(rb"/(CreationDate|ModDate)\s*\((D:[^)]*)\)")
_XMP_DATE = re.compile(rb"<(xmp:(?:CreateDate|ModifyDate|MetadataDate))>([^<]*)</\1>")
_ID = re.compile(rb"/ID\s*\[\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*\]")
_UUID = re.compile(rb"uuid:[0-9a-fA-F-]{36}")
_CHECKSUM = re.compile(rb"/DocChecksum\s*/([0-9A-Fa-f]+)")


class NoLibreOffice(KpixlError):
    """LibreOffice (soffice) is not on PATH: a usage problem, with how to install it."""


class PdfUsageError(KpixlError):
    """An option names a sheet or period the workbook does not have."""


def soffice_path() -> str | None:
    """The LibreOffice binary on PATH (``soffice`` or ``libreoffice``), or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def workbook_to_pdf(
    workbook: Path,
    out: Path,
    sheets: Sequence[str] = DEFAULT_SHEETS,
    period: str | None = None,
) -> Path:
    """Print the chosen sheets of a kpixl workbook to a PDF, written atomically.

    Args:
        workbook: the .xlsx (any file: an unsafe or foreign one is refused).
        out: the PDF to write.
        sheets: the sheets to print, in workbook order (default Quote and Statement).
        period: the period label the Statement shows; None keeps the one the workbook holds.

    Returns:
        The path written.

    Raises:
        NoLibreOffice: soffice is not installed (KX850).
        PdfUsageError: an unknown sheet (KX851) or period (KX852).
        WorkbookError: refused by safe loading (KX854 and the safety codes), not a kpixl
            workbook, or LibreOffice failed (KX853).
    """
    workbook, out = Path(workbook), Path(out)
    soffice = soffice_path()
    if soffice is None:
        issue = Issue("soffice", CODE_NO_SOFFICE, f"LibreOffice is not installed: {INSTALL_HINT}")
        raise NoLibreOffice.from_issues([issue])
    _check_safe(workbook)
    contract, _actuals, _adjustments = read_workbook(workbook)
    _check_choices(workbook, contract.period_labels, sheets, period)
    ref = StatementLayout(Layout(contract)).period_ref.replace("$", "")
    with tempfile.TemporaryDirectory(prefix="kpixl-pdf-") as temp:
        folder = Path(temp)
        copy = folder / "book" / "print.xlsx"
        copy.parent.mkdir()
        prepare_copy(workbook, copy, period=period, period_ref=ref, visible=set(sheets))
        recalc(copy)
        pdf = _convert(soffice, copy, folder)
        data = stable_pdf(pdf.read_bytes())
    atomic_write_bytes(out, data)
    return out


def _check_safe(workbook: Path) -> None:
    """Refuse a file that fails safe loading or carries a hazard (macros, links, ...)."""
    package, issues = open_package(workbook, DEFAULT_LIMITS, workbook.name)
    if package is not None:
        with package:
            issues += scan_hazards(package, workbook.name, expected_hidden=(META,))
    errors = [issue for issue in issues if issue.severity == "error"]
    if package is None or errors:
        refusal = Issue(
            workbook.name,
            CODE_REFUSED,
            "refused: kpixl hands LibreOffice only workbooks that pass its safe loading",
        )
        raise WorkbookError.from_issues([*errors, refusal])


def _check_choices(
    workbook: Path, labels: Sequence[str], sheets: Sequence[str], period: str | None
) -> None:
    present = [name for name in sheet_names(workbook) if name != META]
    issues = [
        Issue(
            f"{workbook.name}:{name}",
            CODE_UNKNOWN_SHEET,
            f"no such sheet to print; the workbook has {', '.join(present)}",
        )
        for name in sheets
        if name not in present
    ]
    if not sheets:
        issues.append(Issue(workbook.name, CODE_UNKNOWN_SHEET, "no sheet to print"))
    if period is not None and period not in labels:
        message = f"{period!r} is not a period of the contract ({labels[0]} … {labels[-1]})"
        issues.append(Issue(f"{workbook.name}:{STATEMENT}", CODE_UNKNOWN_PERIOD, message))
    if issues:
        raise PdfUsageError.from_issues(issues)


def _convert(soffice: str, copy: Path, folder: Path) -> Path:
    """Run ``soffice --convert-to pdf`` on the copy with a throwaway, macro-free profile."""
    profile = folder / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(PROFILE, encoding="utf-8")
    outdir = folder / "pdf"
    command = [
        soffice,
        "--headless",
        "--norestore",
        "--nolockcheck",
        "--nodefault",
        f"-env:UserInstallation={profile.as_uri()}",
        "--convert-to",
        "pdf:calc_pdf_Export",
        "--outdir",
        str(outdir),
        str(copy),
    ]
    output = run_soffice(command)
    result = outdir / f"{copy.stem}.pdf"
    if not result.is_file():
        issue = Issue(copy.name, CODE_SOFFICE_FAILED, f"LibreOffice wrote no PDF: {output.strip()}")
        raise WorkbookError.from_issues([issue])
    return result


def run_soffice(command: list[str], timeout: float = TIMEOUT_SECONDS) -> str:
    """Run a soffice command in its own process group, so a timeout ends soffice.bin too.

    Returns:
        What soffice printed (stdout and stderr).

    Raises:
        WorkbookError: soffice did not finish within ``timeout`` seconds or failed (KX853).
    """
    env = {**os.environ, "SAL_USE_VCLPLUGIN": "svp"}
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env=env,
    ) as process:
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            issue = Issue("soffice", CODE_SOFFICE_FAILED, f"did not finish within {timeout} s")
            raise WorkbookError.from_issues([issue]) from exc
    if process.returncode != 0:
        issue = Issue("soffice", CODE_SOFFICE_FAILED, f"exited with {process.returncode}: {output}")
        raise WorkbookError.from_issues([issue])
    return output


def stable_pdf(data: bytes) -> bytes:
    """The PDF with its dates and ids fixed (same length, so the xref offsets stay valid).

    Dates become 2000-01-01 and the document id a digest of the rest of the file, so the same
    workbook printed twice gives the same bytes.
    """

    def date(match: re.Match[bytes]) -> bytes:
        fixed = b"D:20000101000000Z"
        old = match.group(2)
        stamp = (fixed + b"0" * len(old))[: len(old)] if len(old) >= len(fixed) else fixed
        return b"/" + match.group(1) + b"(" + stamp[: len(old)] + b")"

    def xmp(match: re.Match[bytes]) -> bytes:
        old = match.group(2)
        stamp = (b"2000-01-01T00:00:00Z" + b" " * len(old))[: len(old)]
        return b"<" + match.group(1) + b">" + stamp + b"</" + match.group(1) + b">"

    data = _DATE.sub(date, data)
    data = _XMP_DATE.sub(xmp, data)
    data = _UUID.sub(b"uuid:00000000-0000-0000-0000-000000000000", data)
    digest = hashlib.sha256(_CHECKSUM.sub(b"", _ID.sub(b"", data))).hexdigest().upper().encode()
    data = _CHECKSUM.sub(lambda m: m.group(0).replace(m.group(1), digest[: len(m.group(1))]), data)

    def ident(match: re.Match[bytes]) -> bytes:
        first, second = match.group(1), match.group(2)
        return (
            match.group(0)
            .replace(first, digest[: len(first)])
            .replace(second, digest[: len(second)])
        )

    return _ID.sub(ident, data)
