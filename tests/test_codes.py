"""The issue-code registry is the one list: the code, README and docs agree with it."""

from __future__ import annotations

import re
from pathlib import Path

from kpixl.codes import CODES, code_info

ROOT = Path(__file__).resolve().parent.parent


def _rows(text: str) -> list[list[str]]:
    """The table rows of a Markdown text that start with a code (``\\|`` kept as ``|``)."""
    return [
        [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        for line in text.splitlines()
        if line.startswith("| KX")
    ]


def _expand(cell: str) -> list[str]:
    codes = re.findall(r"KX\d{3}", cell)
    if "–" in cell and len(codes) == 2:
        first, last = (int(code[2:]) for code in codes)
        return [f"KX{n}" for n in range(first, last + 1)]
    return codes


def _used() -> set[str]:
    files = [*ROOT.glob("kpixl/**/*.py"), *ROOT.glob("udfs/*.py")]
    found = set()
    for path in files:
        if path.name != "codes.py":
            found |= set(re.findall(r'"(KX\d{3})"', path.read_text(encoding="utf-8")))
    return found


def test_every_code_the_code_reports_is_registered_and_no_other() -> None:
    assert _used() == set(CODES)


def test_readme_error_codes_table_agrees_with_the_registry() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Error codes", 1)[1].split("\n## ", 1)[0]
    listed: set[str] = set()
    for cells in _rows(table):
        for code in _expand(cells[0]):
            if code not in CODES:
                continue  # a range may span a number no module reports
            listed.add(code)
            assert code_info(code).area == cells[1], code
            assert code_info(code).meaning == cells[2], code
    safety = (ROOT / "docs" / "codes-safety.md").read_text(encoding="utf-8")
    for code, severity, meaning in _rows(safety):
        listed.add(code)
        assert (code_info(code).severity, code_info(code).meaning) == (severity, meaning), code
    assert listed == set(CODES)
