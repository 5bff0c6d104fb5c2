"""Tables printed as rich prints them, without importing rich where the output is plain.

``kpixl settle`` prints two small tables; importing rich and rendering them costs ~30 ms, more
than settling. Where rich would print no styles (stdout is not a terminal), the text is plain
(printable ASCII and the title's em dash; no markup ``[``, no ``:emoji:`` code, no leading,
trailing or double spaces) and each table fits the width rich would give it, ``show`` writes
the very lines rich writes; anywhere else it hands the same table to rich.
tests/test_plain_table.py checks the lines against rich's for many tables and widths.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

Justify = Literal["left", "right"]

#: Text rich prints as it is, one cell per character: printable ASCII and the em dash, without
#: markup, emoji codes (``:name:``) or spaces rich might wrap or trim.
_PLAIN = re.compile(r"(?!.*\[)(?!.*:\S*:)(?!.*  )(?! )(?!.* $)[ -~—]*")


@dataclass
class PlainTable:
    """The part of rich's Table that kpixl's text output uses: a left-justified title, columns
    justified left or right, rows of strings, section lines; rich's default heavy-head box."""

    title: str
    columns: list[tuple[str, Justify]] = field(default_factory=list)
    rows: list[tuple[str, ...]] = field(default_factory=list)
    #: The rows after which a line is drawn (``add_section``).
    sections: set[int] = field(default_factory=set)

    def add_column(self, header: str, justify: Justify = "left") -> None:
        self.columns.append((header, justify))

    def add_row(self, *cells: str) -> None:
        self.rows.append(cells)

    def add_section(self) -> None:
        self.sections.add(len(self.rows) - 1)

    def lines(self, width: int) -> list[str] | None:
        """The lines rich prints at this console width, or None where rich would wrap or style."""
        texts = [self.title, *(h for h, _ in self.columns), *(c for r in self.rows for c in r)]
        if not all(_PLAIN.fullmatch(text) for text in texts):
            return None
        widths = [
            max([len(header), *(len(row[i]) for row in self.rows)]) + 2
            for i, (header, _justify) in enumerate(self.columns)
        ]
        total = sum(widths) + len(widths) + 1
        if total > width:
            return None  # rich would shrink the columns (a title is never wrapped: soft wrap)

        def rule(left: str, line: str, cross: str, right: str) -> str:
            return left + cross.join(line * w for w in widths) + right

        def row(edge: str, cells: tuple[str, ...]) -> str:
            inner = [
                f" {cell.ljust(w - 2) if justify == 'left' else cell.rjust(w - 2)} "
                for cell, w, (_h, justify) in zip(cells, widths, self.columns, strict=True)
            ]
            return edge + edge.join(inner) + edge

        lines = [self.title] if self.title else []  # rich prints no empty title
        lines.append(rule("┏", "━", "┳", "┓"))
        lines.append(row("┃", tuple(header for header, _ in self.columns)))
        lines.append(rule("┡", "━", "╇", "┩"))
        for i, cells in enumerate(self.rows):
            lines.append(row("│", cells))
            if i in self.sections and i < len(self.rows) - 1:
                lines.append(rule("├", "─", "┼", "┤"))
        lines.append(rule("└", "─", "┴", "┘"))
        return lines

    def to_rich(self) -> Table:
        """The same table for rich."""
        from rich.table import Table

        table = Table(title=self.title, title_justify="left")
        for header, justify in self.columns:
            table.add_column(header, justify=justify)
        for i, cells in enumerate(self.rows):
            table.add_row(*cells, end_section=i in self.sections)
        return table


def plain_width() -> int | None:
    """The width rich would print stdout at, where it would print it without styles; else None."""
    if os.name == "nt" or "IPython" in sys.modules or "idlelib" in sys.modules:
        return None  # Windows consoles, notebooks, Idle: rich's own rules
    if any(key in os.environ for key in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")):
        return None
    stdout = sys.stdout
    try:
        if stdout.isatty() or not (stdout.encoding or "utf-8").lower().startswith("utf"):
            return None  # a terminal (styles), or an encoding rich would draw ASCII boxes for
    except (AttributeError, ValueError):
        return None
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    width = None
    for number, stream in enumerate((sys.__stdin__, sys.__stdout__, sys.__stderr__)):
        try:  # rich's file descriptors: the original streams', else 0, 1, 2
            descriptor = stream.fileno()  # type: ignore[union-attr]
        except Exception:
            descriptor = number
        try:
            width, _height = os.get_terminal_size(descriptor)
        except (AttributeError, ValueError, OSError):
            continue
        break
    return width or 80


def show(tables: list[PlainTable], console: Console) -> None:
    """Print the tables one after another as ``console.print`` prints them."""
    width = plain_width() if getattr(console, "_console", True) is None else None
    printed = [None if width is None else table.lines(width) for table in tables]
    if all(lines is not None for lines in printed):
        sys.stdout.write("".join(f"{line}\n" for lines in printed for line in lines or ()))
        return
    for table in tables:
        console.print(table.to_rich())
