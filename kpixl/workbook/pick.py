"""Copies of a workbook prepared for printing: the Statement period set, other sheets hidden.

Both edits are textual, on one part each (the Statement sheet's XML, the workbook part); every
other zip member is copied as it is, like ``patch_cached_values`` does for cached values. The
cached values are then stale: recalculate the copy (``kpixl.workbook.recalc``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from kpixl.atomic import atomic_write
from kpixl.errors import Issue, WorkbookError
from kpixl.workbook.layout import STATEMENT
from kpixl.workbook.ooxml import escape_text

# The package plumbing of patch.py (open refusing encrypted files, find parts, copy members
# raw): one implementation of reading and rewriting an xlsx package.
from kpixl.workbook.patch import (
    _open_package,
    _sheet_parts,
    _workbook_part,
    _write_package,
)

CODE_NO_INPUT_CELL = "KX817"  # the Statement has no period cell to set
_SHEET = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheet\s[^>]*?/?>")
_NAME = re.compile(rb'\sname="([^"]*)"')
_STATE = re.compile(rb'\sstate="[^"]*"')
_ACTIVE = re.compile(rb'\s(?:activeTab|firstSheet)="[^"]*"')


def _cell_pattern(ref: str) -> re.Pattern[bytes]:
    """The whole ``<c r="REF" ...>...</c>`` (or self-closing) element of one cell."""
    r = re.escape(ref.encode("ascii"))
    return re.compile(
        rb'<((?:[A-Za-z_][\w.-]*:)?)c\s(?=[^>]*\br="' + r + rb'")([^>]*?)(/>|>.*?</\1c\s*>)', re.S
    )


def _text_cell(xml: bytes, ref: str, text: str) -> bytes | None:
    """The sheet XML with cell ``ref`` holding ``text`` as an inline string; None if absent."""
    match = _cell_pattern(ref).search(xml)
    if match is None:
        return None
    prefix, attrs = match.group(1), match.group(2)
    attrs = re.sub(rb'\st="[^"]*"', b"", attrs)
    value = escape_text(text).encode("utf-8")
    p = prefix
    inline = b"<" + p + b"is><" + p + b't xml:space="preserve">' + value
    inline += b"</" + p + b"t></" + p + b"is>"
    new = b"<" + p + b"c " + attrs.strip() + b' t="inlineStr">' + inline + b"</" + p + b"c>"
    return xml[: match.start()] + new + xml[match.end() :]


def _show_only(xml: bytes, visible: Collection[str]) -> bytes:
    """The workbook part with every sheet not in ``visible`` hidden (very hidden ones stay)."""
    first: list[int] = []
    hidden: list[int] = []
    position = [0]

    def sheet(match: re.Match[bytes]) -> bytes:
        tag = match.group(0)
        name = _NAME.search(tag)
        title = name.group(1).decode("utf-8") if name else ""
        index = position[0]
        position[0] += 1
        if b'state="veryHidden"' in tag:
            return tag
        tag = _STATE.sub(b"", tag)
        if title in visible:
            first.append(index)
            return tag
        hidden.append(index)
        end = -2 if tag.endswith(b"/>") else -1
        return tag[:end] + b' state="hidden"' + tag[end:]

    xml = _SHEET.sub(sheet, xml)
    # LibreOffice prints a hidden sheet that has a print area: a hidden sheet keeps none.
    for index in hidden:
        xml = re.sub(
            rb"<((?:[A-Za-z_][\w.-]*:)?)definedName\s[^>]*?name=\"_xlnm\.[^\"]*\"[^>]*?"
            rb"localSheetId=\"" + str(index).encode() + rb"\"[^>]*>[^<]*</\1definedName>",
            b"",
            xml,
        )
    active = first[0] if first else 0
    # The active (and first shown) tab must be a visible sheet.
    xml = _ACTIVE.sub(b"", xml)
    return re.sub(
        rb"<((?:[A-Za-z_][\w.-]*:)?)workbookView\s",
        lambda m: m.group(0) + f'activeTab="{active}" firstSheet="{active}" '.encode(),
        xml,
        count=1,
    )


def prepare_copy(
    src: Path,
    dst: Path,
    *,
    period: str | None = None,
    period_ref: str | None = None,
    visible: Collection[str] | None = None,
) -> None:
    """Write a copy of a workbook with the Statement period set and only some sheets shown.

    Args:
        src: the workbook (already through safe loading).
        dst: the copy (written atomically).
        period: the period label for the Statement's input cell, or None to keep it.
        period_ref: the input cell's address, e.g. ``B8`` (needed with ``period``).
        visible: the sheets to leave visible; None keeps every sheet's state.

    Raises:
        WorkbookError: not a package kpixl can rewrite, or no Statement period cell (KX817).
    """
    src, dst = Path(src), Path(dst)
    label = src.name
    with atomic_write(dst) as out, _open_package(src, label) as package:
        workbook = _workbook_part(package, label)
        replacements: dict[str, bytes] = {}
        if period is not None:
            part = _sheet_parts(package, workbook, label).get(STATEMENT)
            xml = None if part is None or period_ref is None else package.read(part)
            new = None if xml is None else _text_cell(xml, period_ref or "", period)
            if part is None or new is None:
                where = f"{label}:{STATEMENT}!{period_ref}"
                issue = Issue(where, CODE_NO_INPUT_CELL, "no Statement period cell to set")
                raise WorkbookError.from_issues([issue])
            replacements[part] = new
        if visible is not None:
            replacements[workbook] = _show_only(package.read(workbook), visible)
        _write_package(src, package, out, replacements, label)


def sheet_names(path: Path) -> list[str]:
    """The worksheet names of a package, in workbook order (chart sheets left out).

    Args:
        path: the workbook (already through safe loading).

    Returns:
        The names.
    """
    path = Path(path)
    with _open_package(path, path.name) as package:
        parts = _sheet_parts(package, _workbook_part(package, path.name), path.name)
    return [name for name, part in parts.items() if part is not None]


def set_statement_period(src: Path, dst: Path, period: str) -> None:
    """Write a copy of a kpixl workbook whose Statement shows ``period`` (caches not updated).

    Args:
        src: the workbook.
        dst: the copy.
        period: a period label of the contract, e.g. ``2027-03``.
    """
    from kpixl.workbook.layout import Layout
    from kpixl.workbook.read import read_workbook
    from kpixl.workbook.statement import StatementLayout

    contract, _actuals, _adjustments = read_workbook(src)
    ref = StatementLayout(Layout(contract)).period_ref.replace("$", "")
    prepare_copy(src, dst, period=period, period_ref=ref)
