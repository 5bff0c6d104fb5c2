"""``kpixl.cli.plain_table`` prints tables byte for byte as rich does, or leaves them to rich."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from kpixl.cli.common import _LazyConsole
from kpixl.cli.plain_table import PlainTable, plain_width, show

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "workbooks" / "examples"


def _rich(table: PlainTable, width: int) -> str:
    file = io.StringIO()
    console = Console(file=file, width=width, highlight=False, soft_wrap=True, color_system=None,
                      force_terminal=False, force_jupyter=False, _environ={})  # fmt: skip
    console.print(table.to_rich())
    return file.getvalue()


# Mostly plain text, sometimes what rich treats specially: markup, emoji codes, wide characters,
# tabs, runs of spaces.
TEXT = st.text(
    st.sampled_from([*"abcXYZ019 ,.-()/", "—", "[", "]", ":", "中", "\t", "é"]), max_size=14
)
PLAIN = st.text(st.sampled_from([*"abcXYZ019,.-()/", "—"]), max_size=12)


@st.composite
def tables(draw: st.DrawFn, text: st.SearchStrategy[str]) -> PlainTable:
    table = PlainTable(draw(text))
    columns = draw(st.integers(1, 8))
    for _ in range(columns):
        table.add_column(draw(text), justify=draw(st.sampled_from(["left", "right"])))
    for _ in range(draw(st.integers(0, 12))):
        table.add_row(*[draw(text) for _ in range(columns)])
        if draw(st.integers(0, 4)) == 0:
            table.add_section()
    return table


@settings(max_examples=400, deadline=None)
@given(table=st.one_of(tables(TEXT), tables(PLAIN)), width=st.integers(10, 160))
def test_plain_lines_are_rich_lines(table: PlainTable, width: int) -> None:
    lines = table.lines(width)
    if lines is not None:
        assert "".join(f"{line}\n" for line in lines) == _rich(table, width)


@settings(max_examples=100, deadline=None)
@given(table=tables(PLAIN))
def test_plain_tables_that_fit_are_printed_without_rich(table: PlainTable) -> None:
    texts = [table.title, *(h for h, _ in table.columns), *(c for r in table.rows for c in r)]
    if any(t != t.strip() or "  " in t for t in texts):
        return
    assert table.lines(1000) is not None


def test_show_writes_rich_lines_or_uses_rich(capsys: pytest.CaptureFixture[str]) -> None:
    table = PlainTable("ACME — a / b: KPIs")
    table.add_column("period")
    table.add_column("total", justify="right")
    table.add_row("2027-01", "1,234.50")
    table.add_section()
    table.add_row("total", "1,234.50")
    show([table, table], _LazyConsole())
    assert capsys.readouterr().out == _rich(table, plain_width() or 80) * 2
    table.add_row("[b]bold[/b]", "1")  # markup: rich renders it
    show([table], _LazyConsole())
    assert capsys.readouterr().out == _rich(table, plain_width() or 80)


@pytest.mark.parametrize("columns", ["", "80", "60", "200", "0"])
def test_settle_text_is_rich_text(columns: str, tmp_path: Path) -> None:
    """`kpixl settle` of the bundled examples prints what rich printed before, at any width."""
    for contract in sorted(EXAMPLES.glob("*.yaml")):
        argv = [str(contract), str(contract.with_suffix(".actuals.csv"))]
        adjustments = contract.with_suffix(".adjustments.csv")
        if adjustments.exists():
            argv += ["--adjustments", str(adjustments)]
        env = {"PATH": "/usr/bin:/bin", "COLUMNS": columns}
        code = (
            "import sys\nfrom kpixl.cli import main\nmain()\n"
            "print('rich' in sys.modules, file=sys.stderr)"
        )
        plain = subprocess.run([sys.executable, "-c", code, "settle", *argv], env=env,
                               capture_output=True, text=True, check=True)  # fmt: skip
        # The same command with rich forced (an existing console prints everything):
        forced = (
            "import sys\nfrom kpixl.cli import common\ncommon.out._made()\n"
            "from kpixl.cli import main\nmain()"
        )
        rich = subprocess.run([sys.executable, "-c", forced, "settle", *argv], env=env,
                              capture_output=True, text=True, check=True)  # fmt: skip
        assert plain.stdout == rich.stdout, contract.name
        # The plain path (rich never imported) where every table fits: tiktok-us-beauty's KPI
        # table is 86 columns wide.
        wide = contract.stem == "tiktok-us-beauty"
        if columns == "200" or (columns == "80" and not wide):
            assert plain.stderr == "False\n", contract.name


@settings(max_examples=300, deadline=None)
@given(line=st.lists(st.sampled_from(["a", " ", ":", "smile", "+1", "[b]", "\\", "-", "(", "é"]),
                     max_size=10).map("".join))  # fmt: skip
def test_a_plain_line_with_colons_prints_as_rich_prints_it(line: str) -> None:
    file = io.StringIO()
    Console(file=file, highlight=False, soft_wrap=True, color_system=None).print(line)
    lazy = _LazyConsole()
    written = io.StringIO()
    stdout, sys.stdout = sys.stdout, written
    try:
        lazy.print(line)
    finally:
        sys.stdout = stdout
    if lazy._console is None:  # written directly, not through rich
        assert written.getvalue() == file.getvalue()
