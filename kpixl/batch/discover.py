"""Find the contracts of a portfolio: a folder of contract and actuals files, or a register."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kpixl.actuals import decode_text
from kpixl.batch.records import BatchItem, BatchUsageError, ErrorRow, ItemResult
from kpixl.errors import Issue, KpixlError

CONTRACT_SUFFIXES = (".yaml", ".yml", ".json")
ACTUALS_SUFFIXES = (".actuals.csv", ".actuals.xlsx")
ADJUSTMENTS_SUFFIXES = (".adjustments.csv", ".adjustments.xlsx")
REGISTER_SUFFIXES = (".csv", ".xlsx")
REGISTER_COLUMNS = ("id", "contract", "actuals", "adjustments")
# Item ids become file names in OUTDIR: the contract id alphabet of SPEC §3.
_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CODE_PORTFOLIO = "KX900"  # the portfolio itself cannot be read
CODE_DUPLICATE = "KX901"  # two contracts would write the same workbook
CODE_ORPHAN = "KX902"  # a data file without its contract
CODE_MISSING_FILE = "KX903"  # a register names a file that does not exist
CODE_BAD_ID = "KX904"  # an id that cannot be a file name


class PortfolioError(BatchUsageError):
    """The portfolio folder or register cannot be read at all."""


@dataclass(frozen=True)
class Portfolio:
    """The items of a portfolio in id order, and the entries that cannot become items."""

    items: tuple[BatchItem, ...]
    failures: tuple[ItemResult, ...]


def discover(path: Path, encoding: str | None = None) -> Portfolio:
    """Read a portfolio: a folder of ``<id>.yaml|.json`` + ``<id>.actuals.csv``, or a register.

    Args:
        path: a folder, or a register (``.csv`` or ``.xlsx``, one row per contract with the
            columns ``contract``, ``actuals``, ``adjustments`` and optionally ``id``; paths
            relative to the register).
        encoding: how to read a register CSV that is neither UTF-8 nor marked by a BOM.

    Returns:
        The items and, as failed results, every entry that cannot be built (orphan data files,
        two contracts with one id, files a register names that do not exist).

    Raises:
        PortfolioError: the path is neither a folder nor a readable register.
    """
    if path.is_dir():
        return _from_folder(path)
    if path.is_file() and path.suffix.lower() in REGISTER_SUFFIXES:
        header, rows = _register_rows(path, encoding)
        return _from_register(path, header, rows)
    message = "not a folder, nor a register (.csv or .xlsx)"
    raise PortfolioError.from_issues([Issue(str(path), CODE_PORTFOLIO, message)])


def _failure(
    item_id: str, file: Path | str, code: str, message: str, location: str = ""
) -> ItemResult:
    row = ErrorRow(item_id, str(file), location, message, code)
    return ItemResult(item_id, "failed", {}, errors=(row,))


def _data_role(name: str) -> tuple[str | None, str]:
    """Whether a file is actuals or adjustments (CSV or .xlsx) of an item, and the item's id."""
    lower = name.lower()
    for role, suffixes in (("actuals", ACTUALS_SUFFIXES), ("adjustments", ADJUSTMENTS_SUFFIXES)):
        for suffix in suffixes:
            if lower.endswith(suffix):
                return role, name[: -len(suffix)]
    return None, name


def _from_folder(folder: Path) -> Portfolio:
    contracts: dict[str, list[Path]] = defaultdict(list)
    data: dict[str, dict[str, Path]] = defaultdict(dict)
    failures: list[ItemResult] = []
    for file in sorted(p for p in folder.iterdir() if p.is_file()):
        name = file.name
        role, stem = _data_role(name)
        if role is not None:
            if role in data[stem]:
                clash = f"{data[stem][role].name} and {name}"
                message = f"{clash} are both {role} of {stem}; keep one"
                failures.append(_failure(stem, file, CODE_DUPLICATE, message))
            data[stem][role] = file
        elif file.suffix.lower() in CONTRACT_SUFFIXES:
            contracts[file.stem].append(file)
    items: list[BatchItem] = []
    for item_id in sorted(set(contracts) | set(data)):
        files = data.get(item_id, {})
        found = contracts.get(item_id, [])
        if not found:
            for file in files.values():
                message = f"no contract file {item_id}.yaml or {item_id}.json beside it"
                failures.append(_failure(item_id, file, CODE_ORPHAN, message))
        elif len(found) > 1:
            names = " and ".join(p.name for p in found)
            message = f"{names} would both write {item_id}.xlsx; keep one"
            failures.append(_failure(item_id, found[0], CODE_DUPLICATE, message))
        else:
            item = BatchItem(item_id, found[0], files.get("actuals"), files.get("adjustments"))
            problem = _item_problem(item)
            if problem is None:
                items.append(item)
            else:
                failures.append(problem)
    return Portfolio(tuple(items), tuple(failures))


def _item_problem(item: BatchItem) -> ItemResult | None:
    if not _ID.match(item.id):
        message = f"{item.id!r} cannot name a workbook: use letters, digits, '.', '_', '-' (≤ 64)"
        return _failure(item.id, item.contract, CODE_BAD_ID, message)
    if item.adjustments is not None and item.actuals is None:
        message = "adjustments without actuals: there is nothing to adjust"
        return _failure(item.id, item.adjustments, CODE_ORPHAN, message)
    return None


def _register_rows(path: Path, encoding: str | None) -> tuple[list[str], list[list[object]]]:
    if path.suffix.lower() == ".xlsx":
        from kpixl.workbook.register import read_first_sheet

        try:
            return read_first_sheet(path)
        except KpixlError as e:
            raise PortfolioError.from_issues(e.issues) from e
    try:
        text = decode_text(path.read_bytes(), str(path), encoding)
    except OSError as e:
        issue = Issue(str(path), CODE_PORTFOLIO, f"cannot read the register: {e.strerror or e}")
        raise PortfolioError.from_issues([issue]) from e
    except KpixlError as e:  # not text, or not UTF-8 and no --encoding that reads it
        raise PortfolioError.from_issues(e.issues) from e
    table = list(csv.reader(io.StringIO(text)))
    if not table:
        raise PortfolioError.from_issues(
            [Issue(str(path), CODE_PORTFOLIO, "the register is empty")]
        )
    return [str(cell) for cell in table[0]], [list(row) for row in table[1:]]


def _from_register(
    register: Path, header: Sequence[object], rows: Sequence[Sequence[object]]
) -> Portfolio:
    names = [str(cell or "").strip().lower() for cell in header]
    if "contract" not in names:
        message = "the register needs a 'contract' column (and 'actuals', 'adjustments')"
        raise PortfolioError.from_issues([Issue(str(register), CODE_PORTFOLIO, message)])
    base = register.parent
    entries: dict[str, list[tuple[int, BatchItem]]] = defaultdict(list)
    failures: list[ItemResult] = []
    for line, row in enumerate(rows, start=2):
        record = {name: _text(cell) for name, cell in zip(names, row, strict=False)}
        if not any(record.get(column) for column in REGISTER_COLUMNS):
            continue
        item, problems = _register_item(register, base, line, record)
        failures.extend(problems)
        if item is not None:
            entries[item.id].append((line, item))
    items: list[BatchItem] = []
    for item_id in sorted(entries):
        found = entries[item_id]
        if len(found) > 1:
            lines = ", ".join(str(line) for line, _ in found)
            message = f"lines {lines} would all write {item_id}.xlsx; give each an 'id'"
            failures.append(_failure(item_id, register, CODE_DUPLICATE, message, f"lines {lines}"))
            continue
        problem = _item_problem(found[0][1])
        if problem is None:
            items.append(found[0][1])
        else:
            failures.append(problem)
    return Portfolio(tuple(items), tuple(sorted(failures, key=lambda r: r.id)))


def _register_item(
    register: Path, base: Path, line: int, record: dict[str, str]
) -> tuple[BatchItem | None, list[ItemResult]]:
    paths: dict[str, Path | None] = {}
    for role in ("contract", "actuals", "adjustments"):
        value = record.get(role, "")
        paths[role] = (base / value) if value else None
    contract = paths["contract"]
    item_id = record.get("id") or (_stem(contract) if contract else f"line-{line}")
    where = f"line {line}"
    if contract is None:
        empty = "the 'contract' cell is empty"
        return None, [_failure(item_id, register, CODE_MISSING_FILE, empty, where)]
    missing = [
        _failure(item_id, register, CODE_MISSING_FILE, f"{role} file {path} does not exist", where)
        for role, path in paths.items()
        if path is not None and not path.is_file()
    ]
    if missing:
        return None, missing
    return BatchItem(item_id, contract, paths["actuals"], paths["adjustments"]), []


def _stem(path: Path) -> str:
    name = path.name
    for suffix in CONTRACT_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()
