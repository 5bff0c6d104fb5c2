"""Every third-party workbook of the shared corpus gives a package or issues, never a traceback."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from kpixl.workbook.hazards import scan_hazards
from kpixl.workbook.safety import load_openpyxl, open_package

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
FILES = (
    sorted(p for p in CORPUS.rglob("*") if p.suffix in {".xlsx", ".xlsm"})
    if CORPUS.is_dir()
    else []
)
CODE = re.compile(r"^KX[67]\d\d$")
# What the scan must find in files whose nature is known from their upstream tests.
KNOWN = {
    "tests_pass_protected.xlsx": "KX704",
    "tests_vba.xlsm": "KX609",
    "tests_any_sheets.xlsx": "KX613",
    "tests_errors.xlsx": "KX601",
    "tests_hyperlinks.xlsx": "KX603",
}


@pytest.mark.skipif(not FILES, reason=f"no corpus at {CORPUS} (../shared/corpus next to the repo)")
@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_file_gives_package_or_issues(path: Path) -> None:
    pkg, issues = open_package(path)
    if pkg is not None:
        with pkg:
            issues += scan_hazards(pkg)
    assert all(CODE.match(issue.code) for issue in issues)
    assert all(issue.location.startswith(path.name) for issue in issues)
    if path.name in KNOWN:
        assert KNOWN[path.name] in {issue.code for issue in issues}
    if pkg is None:
        assert any(issue.severity == "error" for issue in issues)
        return
    workbook, more = load_openpyxl(path)
    if workbook is None:
        assert [issue.code for issue in more if issue.severity == "error"] == ["KX721"]
        return
    # Read-only sheets parse lazily: read every row too (openpyxl may warn about extensions).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rows = sum(1 for sheet in workbook.worksheets for _ in sheet.iter_rows(values_only=True))
    workbook.close()
    assert rows >= 0
