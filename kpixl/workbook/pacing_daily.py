"""The Daily block of the Pacing sheet: pasted daily rows, their check and their to-date figures.

Below the projection the user pastes the days as ``kpixl ingest --daily`` writes them (or as the
platform shows them): a date, then one column per metric in the order of the header row. The
to-date figure of every column is then computed from the rows by its SPEC §9 kind (sum, mean,
last); a day twice, a date that is not read or a day outside the open period shows in the row's
Check cell and in the sheet's check message, and ``kpixl validate`` reports it as KX238.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kpixl.daily import period_dates
from kpixl.engine.pacing import Kind, to_date_of
from kpixl.errors import Issue, Place
from kpixl.model import Contract
from kpixl.workbook.layout import PACING, CellSpec, ValueType, cell, label

CellValue = float | bool | str

#: The counts above the pasted rows: label in column A, formula in column B.
DAILY_INFO: tuple[tuple[str, str, str], ...] = (
    ("rows", "Daily rows pasted (with a date)", "已粘贴的每日行数（有日期）"),
    ("used", "Rows used (open period, up to the as-of date)", "采用的行数（本期，截至日期前）"),
    ("twice", "Days pasted twice", "重复的日期数"),
    ("not_date", "Dates not read", "无法识别的日期数"),
    ("outside", "Rows outside the open period (not used)", "本期以外的行数（未计入）"),
)
TITLE = (
    "Daily rows: paste the days here (date, then the columns in this order)",
    "每日数据：在此粘贴（日期，然后按此顺序的各列）",
)
CHECK_HEADER = ("Check", "检查")
#: What a row's Check cell says (blank: the row is used).
FLAGS: dict[str, tuple[str, str]] = {
    "twice": ("Day twice: keep one row", "日期重复：只保留一行"),
    "not_date": ("Not a date (YYYY-MM-DD)", "不是日期（YYYY-MM-DD）"),
    "outside": ("Outside the open period: not used", "不在本期：未计入"),
    "after": ("After the as-of date: not used", "晚于截至日期：未计入"),
}
#: The sheet's check message, at the top of the Pacing sheet.
CHECKS: dict[str, tuple[str, str]] = {
    "none": (
        "No daily rows pasted: the typed figures are used",
        "未粘贴每日数据：采用手工输入的数据",
    ),
    "fix": (
        "Fix the daily rows: a day twice or a date not read (see Check)",
        "请修正每日数据：日期重复或无法识别（见检查列）",
    ),
    "outside": (
        "OK; rows outside the open period are not used (see Check)",
        "正常；本期以外的行未计入（见检查列）",
    ),
    "ok": ("OK: every pasted row is used", "正常：粘贴的行均已计入"),
}
SOURCES: dict[str, tuple[str, str]] = {
    "daily": ("The daily rows below", "下方的每日数据"),
    "typed": ("The typed figures", "手工输入的数据"),
}
DATE_FORMAT = "yyyy-mm-dd"
EXCEL_EPOCH = dt.date(1899, 12, 30)
CODE = "KX238"


def serial(day: dt.date) -> float:
    """Excel's date serial of a day (1900 date system), as a date formula caches it."""
    return float((day - EXCEL_EPOCH).days)


def longest_period(contract: Contract) -> int:
    """Days of the contract's longest period: the number of rows the block offers."""
    spans = (period_dates(contract, p) for p in range(1, contract.periods + 1))
    return max((last - first).days + 1 for first, last in spans)


@dataclass(frozen=True)
class Refs:
    """Absolute references of the Pacing header cells the block's formulas read."""

    p: str
    first: str
    days: str
    as_of: str


@dataclass(frozen=True)
class PastedRow:
    """One row of the block as read: its offset, its day (None: blank or not a date)."""

    offset: int
    day: dt.date | None
    not_date: bool
    values: dict[str, float | None]


class DailyBlock:
    """Addresses of the Daily block, whose title sits on ``first_row`` (0-based)."""

    def __init__(self, first_row: int, columns: Sequence[str], days: int, refs: Refs) -> None:
        self.columns = tuple(columns)
        self.days = days
        self.refs = refs
        self.title_row = first_row
        self.info_first_row = first_row + 1
        self.header_row = self.info_first_row + len(DAILY_INFO) + 1
        self.first_day_row = self.header_row + 1
        self.last_row = self.header_row + days
        self.check_col = 1 + len(self.columns)

    def info(self, key: str) -> str:
        row = self.info_first_row + [i[0] for i in DAILY_INFO].index(key)
        return cell(row, 1, True)

    def span(self, col: int) -> str:
        return f"{cell(self.first_day_row, col, True)}:{cell(self.last_row, col, True)}"

    @property
    def dates(self) -> str:
        return self.span(0)

    def values(self, name: str) -> str:
        return self.span(1 + self.columns.index(name))

    @property
    def checks(self) -> str:
        return self.span(self.check_col)

    def pasted(self) -> str:
        """Whether any row was pasted (a date or something that should have been one)."""
        return f"({self.info('rows')}+{self.info('not_date')}>0)"

    def bad(self) -> str:
        """Whether a row stops the projection: a day twice or a date not read."""
        return f"({self.info('twice')}+{self.info('not_date')}>0)"


def daily_cells(block: DailyBlock) -> list[CellSpec]:
    """Every cell of the block: title, counts, header, input rows and their Check formulas."""
    cells = [
        CellSpec(PACING, cell(block.title_row, 0), "label.pacing.daily.title", "fixed", "text")
    ]
    for key, _en, _zh in DAILY_INFO:
        ref = block.info(key).replace("$", "")
        row = int(ref[1:]) - 1
        cells.append(CellSpec(PACING, cell(row, 0), f"label.pacing.daily.{key}", "fixed", "text"))
        formula = _info_formula(block, key)
        cells.append(_formula(f"pacing.daily.{key}", ref, formula, formula))
    header = block.header_row
    cells.append(CellSpec(PACING, cell(header, 0), "pacing.daily.column.date", "fixed", "text"))
    for c, name in enumerate(block.columns, start=1):
        key = f"pacing.daily.column.{name}"
        cells.append(CellSpec(PACING, cell(header, c), key, "fixed", "text"))
    check = cell(header, block.check_col)
    cells.append(CellSpec(PACING, check, "label.pacing.daily.check", "fixed", "text"))
    for i in range(block.days):
        row = block.first_day_row + i
        cells.append(
            CellSpec(
                PACING,
                cell(row, 0),
                f"pacing.daily[{i}].date",
                "input",
                "date",
                None,
                None,
                DATE_FORMAT,
            )  # fmt: skip
        )
        for c, name in enumerate(block.columns, start=1):
            cells.append(CellSpec(PACING, cell(row, c), f"pacing.daily[{i}].{name}", "input"))
        formula = _flag_formula(block, row)
        cells.append(
            _formula(f"pacing.daily[{i}].check", cell(row, block.check_col), formula, formula)
        )
    return cells


def _formula(key: str, ref: str, native: str, udf: str) -> CellSpec:
    value_type: ValueType = "text" if key.endswith(".check") else "number"
    return CellSpec(PACING, ref, key, "formula", value_type, native=native, udf=udf)


def _text(pair: tuple[str, str]) -> str:
    """A message as a formula's string: always bilingual (cached values know no language)."""
    return '"' + bilingual(pair).replace('"', '""') + '"'


def _window(block: DailyBlock) -> str:
    """1 for the rows dated from the period's first day to the as-of date, else 0 (an array)."""
    r, refs = block.dates, block.refs
    return f"({r}>={refs.first})*({r}<={refs.as_of})"


def _info_formula(block: DailyBlock, key: str) -> str:
    if key == "rows":
        return f"COUNT({block.dates})"
    if key == "used":
        return f'IF({block.refs.p}="",0,SUMPRODUCT({_window(block)}))'
    return f"SUMPRODUCT(({block.checks}={_text(FLAGS[key])})*1)"


def _flag_formula(block: DailyBlock, row: int) -> str:
    """A row's Check: a day twice, not a date, outside the open period, after the as-of date."""
    a, refs = cell(row, 0), block.refs
    first, after = refs.first, f"{refs.first}+{refs.days}"
    where = (
        f'IF({refs.p}="","",IF(OR({a}<{first},{a}>={after}),{_text(FLAGS["outside"])},'
        f'IF({a}>{refs.as_of},{_text(FLAGS["after"])},"")))'
    )
    dated = f"IF(SUMPRODUCT(({block.dates}={a})*1)>1,{_text(FLAGS['twice'])},{where})"
    return f'IF(ISNUMBER({a}),{dated},IF({a}="","",{_text(FLAGS["not_date"])}))'


def bilingual(pair: tuple[str, str]) -> str:
    """``English / 中文``: what a Check cell or the check message says."""
    return label(*pair, "both")


def check_formula(block: DailyBlock) -> str:
    """The sheet's check message: nothing pasted, rows to fix, rows not used, or OK."""
    outside = f"{block.info('outside')}>0"
    return (
        f"IF(NOT{block.pasted()},{_text(CHECKS['none'])},"
        f"IF({block.bad()},{_text(CHECKS['fix'])},"
        f"IF({outside},{_text(CHECKS['outside'])},{_text(CHECKS['ok'])})))"
    )


def source_formula(block: DailyBlock) -> str:
    """Where the to-date figures come from: the pasted rows, else the typed figures."""
    return f"IF({block.pasted()},{_text(SOURCES['daily'])},{_text(SOURCES['typed'])})"


def used_formulas(block: DailyBlock, name: str, kind: Kind, typed: str) -> tuple[str, str]:
    """A column's to-date figure used: from the pasted rows by its kind, else the typed one."""
    refs, v = block.refs, block.values(name)
    window = _window(block)
    # SUMPRODUCT reads a blank or text value as 0 and needs no array entry (any spreadsheet).
    total = f"SUMPRODUCT({window},{v})"
    if kind == "sum":
        native = total
    else:
        count = f"SUMPRODUCT({window}*ISNUMBER({v}))"
        if kind == "mean":
            value = f"{total}/{count}"
        else:  # the value of the last day with one: its date is the largest such date
            r = block.dates
            last = f"SUMPRODUCT(MAX({window}*ISNUMBER({v})*{r}))"
            value = f"INDEX({v},MATCH({last},{r},0))"
        native = f'IF({count}=0,"",{value})'
    udf = f'KPIXL_TODATE("{kind}",{block.dates},{v},{refs.first},{refs.as_of})'

    def used(expr: str) -> str:
        from_rows = f'IF(OR({refs.p}="",{block.bad()}),"",{expr})'
        return f'IF({block.pasted()},{from_rows},IF(ISNUMBER({typed}),{typed},""))'

    return used(native), used(udf)


def daily_labels() -> dict[str, tuple[str, str]]:
    """The block's label texts by key (``label.pacing.daily.<key>``)."""
    return {"title": TITLE, "check": CHECK_HEADER, **{k: (en, zh) for k, en, zh in DAILY_INFO}}


def daily_fixed_values(block: DailyBlock) -> dict[str, Any]:
    """The header's column names, as the daily CSV names them."""
    return {f"pacing.daily.column.{name}": name for name in ("date", *block.columns)}


def daily_input_values(block: DailyBlock, rows: Sequence[PastedRow] = ()) -> dict[str, Any]:
    """The input cells' values by schema key (blank when nothing is pasted)."""
    out: dict[str, Any] = {}
    by_offset = {row.offset: row for row in rows}
    for i in range(block.days):
        row = by_offset.get(i)
        out[f"pacing.daily[{i}].date"] = None if row is None else row.day
        for name in block.columns:
            out[f"pacing.daily[{i}].{name}"] = None if row is None else row.values.get(name)
    return out


@dataclass(frozen=True)
class DailyFigures:
    """What the pasted rows give: each row's flag, the counts, and the to-date figures."""

    flags: dict[int, str]
    counts: dict[str, int]

    @property
    def pasted(self) -> bool:
        return self.counts["rows"] + self.counts["not_date"] > 0

    @property
    def bad(self) -> bool:
        return self.counts["twice"] + self.counts["not_date"] > 0


def last_pasted_day(rows: Sequence[PastedRow]) -> dt.date | None:
    """The as-of date when none is typed: the last pasted day."""
    days = [row.day for row in rows if row.day is not None]
    return max(days) if days else None


def check_rows(
    contract: Contract, rows: Sequence[PastedRow], index: int | None, as_of: dt.date | None
) -> DailyFigures:
    """Each row's flag (twice, not a date, outside the open period, after D) and the counts."""
    seen = Counter(row.day for row in rows if row.day is not None)
    bounds = None if index is None else period_dates(contract, index)
    flags: dict[int, str] = {}
    for row in rows:
        if row.day is None:
            flags[row.offset] = "not_date" if row.not_date else ""
        elif seen[row.day] > 1:
            flags[row.offset] = "twice"
        elif bounds is None or as_of is None:
            flags[row.offset] = ""
        elif not bounds[0] <= row.day <= bounds[1]:
            flags[row.offset] = "outside"
        else:
            flags[row.offset] = "after" if row.day > as_of else ""
    counts = {key: sum(1 for f in flags.values() if f == key) for key in FLAGS}
    counts["rows"] = sum(1 for row in rows if row.day is not None)
    counts["used"] = (
        0
        if bounds is None or as_of is None
        else sum(1 for row in rows if row.day is not None and bounds[0] <= row.day <= as_of)
    )
    return DailyFigures(flags, counts)


def to_date_from_rows(
    rows: Sequence[PastedRow], name: str, kind: Kind, first: dt.date, as_of: dt.date
) -> float | None:
    """A column's to-date figure from the pasted rows: the engine's ``to_date_of``."""
    dated = [row for row in rows if row.day is not None]
    return to_date_of(
        kind, [row.day for row in dated if row.day], [row.values.get(name) for row in dated],
        first, as_of,
    )  # fmt: skip


def block_values(block: DailyBlock, figures: DailyFigures) -> dict[str, CellValue]:
    """The block's formula cells by address: counts and every row's Check text."""
    values: dict[str, CellValue] = {}
    for key, _en, _zh in DAILY_INFO:
        values[block.info(key).replace("$", "")] = float(figures.counts[key])
    for i in range(block.days):
        flag = figures.flags.get(i, "")
        text = bilingual(FLAGS[flag]) if flag else ""
        values[cell(block.first_day_row + i, block.check_col)] = text
    return values


def read_rows(sheet: Any, block: DailyBlock, day_of: Any, number_of: Any) -> tuple[PastedRow, ...]:
    """The pasted rows of an openpyxl sheet (rows with neither a date nor a value are skipped).

    Args:
        sheet: the Pacing sheet (formulas, not cached values).
        block: the block's addresses.
        day_of: turns a cell value into a day or None.
        number_of: turns a cell value into a number or None.
    """
    rows = []
    for i in range(block.days):
        row = block.first_day_row + i
        raw = sheet[cell(row, 0)].value
        values = {
            name: number_of(sheet[cell(row, c)].value)
            for c, name in enumerate(block.columns, start=1)
        }
        day = day_of(raw)
        blank = raw is None or (isinstance(raw, str) and not raw.strip())
        if day is None and blank and all(v is None for v in values.values()):
            continue
        rows.append(PastedRow(i, day, day is None and not blank, values))
    return tuple(rows)


def daily_issues(
    label_: str, contract: Contract, block: DailyBlock, rows: Sequence[PastedRow],
    index: int | None, as_of: dt.date | None,
) -> list[Issue]:  # fmt: skip
    """KX238: a day pasted twice (error) or outside the open period (warning, not used)."""
    figures = check_rows(contract, rows, index, as_of)
    issues = []
    period = "" if index is None else f" {contract.period_label(index)}"
    for row in rows:
        flag = figures.flags.get(row.offset, "")
        if flag not in ("twice", "outside") or row.day is None:
            continue
        where = Place(label_, PACING, cell(block.first_day_row + row.offset, 0))
        day = row.day.isoformat()
        if flag == "twice":
            message = (
                f"daily row {row.offset + 1}: the day {day} is pasted twice"
                f" (open period{period}); keep one row"
            )
            issues.append(where.issue(CODE, message))
        else:
            message = (
                f"daily row {row.offset + 1}: the day {day} is outside the open period{period}; "
                "it is not used"
            )
            issues.append(where.issue(CODE, message, "warning"))
    return issues
