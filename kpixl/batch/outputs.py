"""Portfolio outputs for finance: summary.csv, summary.xlsx and errors.csv in OUTDIR."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpixl.atomic import atomic_write_text
from kpixl.batch.records import ItemResult
from kpixl.engine.money import contract_total

if TYPE_CHECKING:
    import pandas as pd

SUMMARY_CSV = "summary.csv"
SUMMARY_XLSX = "summary.xlsx"
ERRORS_CSV = "errors.csv"
PERIOD_COLUMNS = (
    "contract", "currency", "period", "base", "bonus", "total", "fee_share_of_gmv",
    "exit_eligible",
)  # fmt: skip
CONTRACT_COLUMNS = ("contract", "currency", "periods", "base", "bonus", "total", "exit_eligible")
ERROR_COLUMNS = ("contract", "file", "location", "message", "code")
MONEY = frozenset({"base", "bonus", "total"})


def period_frame(results: Iterable[ItemResult]) -> pd.DataFrame:
    """One row per contract and settled period, in contract then period order.

    Args:
        results: the ``ok`` and ``skipped`` results of a batch.

    Returns:
        The columns of ``PERIOD_COLUMNS`` plus ``decimals``; ``fee_share_of_gmv`` is the
        period's total over the revenue KPI's actual (NaN without a revenue KPI, for a ratio
        revenue KPI, or when revenue is not positive).
    """
    import pandas as pd  # heavy: only batch runs need it

    records = [
        {"contract": result.id, "currency": result.currency, "decimals": result.decimals,
         "period": row.period, "base": row.base, "bonus": row.bonus, "total": row.total,
         "revenue": row.revenue, "exit_eligible": row.exit_eligible}
        for result in sorted(results, key=lambda r: r.id)
        for row in result.rows
    ]  # fmt: skip
    columns = [*PERIOD_COLUMNS, "decimals", "revenue"]
    frame = pd.DataFrame.from_records(
        records, columns=[c for c in columns if c != "fee_share_of_gmv"]
    )
    revenue = pd.to_numeric(frame["revenue"], errors="coerce").astype("float64")
    frame["fee_share_of_gmv"] = frame["total"].astype("float64") / revenue.where(revenue > 0)
    frame["exit_eligible"] = frame["exit_eligible"].astype(bool)
    return frame[[*PERIOD_COLUMNS, "decimals"]]


def contract_frame(periods: pd.DataFrame) -> pd.DataFrame:
    """Contract totals: base, bonus and total as ROUND of the period sums (SPEC §5.10).

    Args:
        periods: the frame of ``period_frame``.

    Returns:
        One row per contract with ``CONTRACT_COLUMNS`` plus ``decimals``; ``exit_eligible`` is
        that of the contract's last settled period.
    """
    import pandas as pd

    # Grouped by hand, not with DataFrame.groupby: a portfolio has thousands of small groups,
    # which pandas' per-group machinery makes ten times slower than this loop.
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(periods["contract"].tolist()):
        groups.setdefault(name, []).append(i)
    column = {name: periods[name].tolist() for name in
              ("currency", "decimals", "base", "bonus", "total", "exit_eligible")}  # fmt: skip
    records = []
    for name in sorted(groups):
        rows = groups[name]
        first, decimals = rows[0], int(column["decimals"][rows[0]])
        record: dict[str, Any] = {"contract": name, "currency": column["currency"][first],
                                  "periods": len(rows)}  # fmt: skip
        for money in ("base", "bonus", "total"):  # the engine's rounding of totals
            record[money] = contract_total([float(column[money][i]) for i in rows], decimals)
        record["exit_eligible"] = bool(column["exit_eligible"][rows[-1]])
        record["decimals"] = decimals
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=[*CONTRACT_COLUMNS, "decimals"])
    return frame[[*CONTRACT_COLUMNS, "decimals"]]


def write_summaries(out_dir: Path, results: Iterable[ItemResult]) -> pd.DataFrame:
    """Write ``summary.csv`` (per period) and ``summary.xlsx`` (per period and per contract).

    Args:
        out_dir: the output folder.
        results: the ``ok`` and ``skipped`` results.

    Returns:
        The per-period frame written.
    """
    from kpixl.workbook.summary import SummaryTable, write_summary_xlsx

    periods = period_frame(results)
    contracts = contract_frame(periods)
    text = periods[list(PERIOD_COLUMNS)].to_csv(index=False, lineterminator="\n", na_rep="")
    atomic_write_text(out_dir / SUMMARY_CSV, text)
    tables = [
        SummaryTable("Periods", PERIOD_COLUMNS, _rows(periods, PERIOD_COLUMNS),
                     periods["decimals"].tolist(), MONEY, frozenset({"fee_share_of_gmv"})),
        SummaryTable("Contracts", CONTRACT_COLUMNS, _rows(contracts, CONTRACT_COLUMNS),
                     contracts["decimals"].tolist(), MONEY),
    ]  # fmt: skip
    write_summary_xlsx(out_dir / SUMMARY_XLSX, tables)
    return periods


def _rows(frame: pd.DataFrame, columns: Sequence[str]) -> list[list[Any]]:
    """Plain Python rows (NaN as None) for the workbook writer."""
    rows = frame[list(columns)].to_numpy(dtype=object).tolist()
    return [[_plain(value) for value in row] for row in rows]


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()  # numpy scalars to Python
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write_errors(out_dir: Path, results: Iterable[ItemResult]) -> int:
    """Write ``errors.csv``: one row per issue of every failed item (header only when none).

    Args:
        out_dir: the output folder.
        results: the results of a batch; only failed ones have error rows.

    Returns:
        The number of rows written.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ERROR_COLUMNS)
    count = 0
    for result in sorted(results, key=lambda r: r.id):
        for row in result.errors:
            writer.writerow([row.contract, row.file, row.location, row.message, row.code])
            count += 1
    atomic_write_text(out_dir / ERRORS_CSV, buffer.getvalue())
    return count
