"""One batch item, start to finish: load, settle, build, validate, write atomically.

``process_item`` is the function every executor runs (a local process pool, a Dask cluster, or
the calling process): a top-level function from a picklable task of plain paths to a small
picklable result. It never raises for a bad contract; the result carries the issues instead.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections.abc import Iterable
from pathlib import Path

from kpixl.actuals import Actuals, Adjustments, resolve
from kpixl.atomic import atomic_write_bytes
from kpixl.batch.hashing import hash_inputs
from kpixl.batch.records import BatchItem, ErrorRow, ItemResult, ItemTask, PeriodRow
from kpixl.engine.settle import settle
from kpixl.errors import Issue, KpixlError, WorkbookError
from kpixl.model import Contract, load_contract
from kpixl.ratecard import RateCard
from kpixl.workbook.tables import read_actuals, read_adjustments

#: Test hook: items whose ordinal is at least this value sleep instead of running, so a test can
#: kill a batch at a known point. Unset in normal use.
STALL_ENV = "KPIXL_BATCH_TEST_STALL_AFTER"
CODE_INTERNAL = "KX999"  # a bug in kpixl, isolated to the item that hit it


def process_item(task: ItemTask) -> ItemResult:
    """Build, check and write one contract's workbook.

    Args:
        task: the item, the output folder and the formula mode.

    Returns:
        ``ok`` with the input and output hashes and the summary rows, or ``failed`` with one
        error row per issue. The workbook is at ``OUTDIR/<id>.xlsx`` only when ``ok``.
    """
    _stall_for_tests(task.ordinal)
    started = time.perf_counter()
    item = task.item
    hashes: dict[str, str] = {}
    try:
        hashes = hash_inputs(item)
        contract, rows, digest = _build(task, hashes)
    except KpixlError as e:
        issues = e.issues or [Issue(str(item.contract), CODE_INTERNAL, str(e))]
        return _failed(task, hashes, issues, started)
    except Exception as e:  # noqa: BLE001 - a bug hit by one contract must not stop the others
        issue = Issue(str(item.contract), CODE_INTERNAL, f"internal error: {type(e).__name__}: {e}")
        return _failed(task, hashes, [issue], started)
    seconds = time.perf_counter() - started
    return ItemResult(item.id, "ok", hashes, digest, contract.currency, contract.decimals, rows,
                      seconds=seconds)  # fmt: skip


def _failed(
    task: ItemTask, hashes: dict[str, str], issues: list[Issue], started: float
) -> ItemResult:
    errors = error_rows(task.item, issues, task.out_dir / f"{task.item.id}.xlsx")
    return ItemResult(task.item.id, "failed", hashes, errors=errors,
                      seconds=time.perf_counter() - started)  # fmt: skip


def _build(task: ItemTask, hashes: dict[str, str]) -> tuple[Contract, tuple[PeriodRow, ...], str]:
    item = task.item
    contract = load_contract(item.contract)
    actuals = None if item.actuals is None else read_actuals(item.actuals)
    adjustments = None if item.adjustments is None else read_adjustments(item.adjustments)
    card = None if item.rate_card is None else _card(item.rate_card, hashes["rate_card"])
    rows = period_rows(contract, actuals, adjustments)
    digest = write_checked_workbook(contract, actuals, adjustments, task, card)
    return contract, rows, digest


@functools.lru_cache(maxsize=4)
def _card(path: Path, digest: str) -> RateCard:
    """The batch's rate card, loaded once per worker process (and again if its bytes change)."""
    from kpixl.workbook.layout import load_fitting_card

    return load_fitting_card(path)


def period_rows(
    contract: Contract, actuals: Actuals | None, adjustments: Adjustments | None
) -> tuple[PeriodRow, ...]:
    """The summary rows of a contract: one per settled period, with the revenue KPI's actual.

    Args:
        contract: the contract.
        actuals: its actuals, or None (nothing settled yet).
        adjustments: its adjustments, or None.

    Returns:
        One row per settled period. ``revenue`` is the period's own value of the revenue KPI's
        column (adjustments applied; not the to-date figure of cumulative settlement), or None
        when the contract has no ``revenue_kpi`` or it is a ratio KPI.

    Raises:
        ActualsError: the actuals or adjustments do not fit the contract.
    """
    if actuals is None:
        return ()
    data = resolve(contract, actuals, adjustments)
    result = settle(contract, data)
    revenue: list[float] | None = None
    if contract.revenue_kpi is not None:
        kpi = contract.kpi(contract.revenue_kpi)
        if kpi.ratio is None:
            revenue = data.values[kpi.source_column].tolist()
    position = {index: i for i, index in enumerate(data.indices)}
    return tuple(
        PeriodRow(
            period.period,
            period.base,
            period.bonus,
            period.total,
            None if revenue is None else revenue[position[period.index]],
            period.exit_eligible,
        )
        for period in result.periods
    )


def write_checked_workbook(
    contract: Contract,
    actuals: Actuals | None,
    adjustments: Adjustments | None,
    task: ItemTask,
    rate_card: RateCard | None = None,
) -> str:
    """Build the workbook in memory, check its bytes, then write them atomically.

    The check is ``verify_built``: the validator's structural and formula-integrity rules held
    against the very bytes that are then written, without reading a file back.

    Args:
        contract: the contract.
        actuals: its actuals, or None.
        adjustments: its adjustments, or None.
        task: the item task (id, output folder, formula mode).
        rate_card: the RateCard sheet's card, or None for the sample card.

    Returns:
        The SHA-256 of the workbook written to ``OUTDIR/<id>.xlsx``.

    Raises:
        WorkbookError: the built workbook fails the check (nothing is written).
    """
    from kpixl.workbook.build import build_bytes
    from kpixl.workbook.verify import verify_built

    final = task.out_dir / f"{task.item.id}.xlsx"
    built = build_bytes(contract, actuals, adjustments, mode=task.mode, rate_card=rate_card)
    problems = verify_built(built, str(final))
    if problems:
        raise WorkbookError.from_issues(problems)
    atomic_write_bytes(final, built.data)
    return hashlib.sha256(built.data).hexdigest()


def error_rows(item: BatchItem, issues: Iterable[Issue], workbook: Path) -> tuple[ErrorRow, ...]:
    """One ``errors.csv`` row per issue, naming the file it concerns.

    Args:
        item: the batch item.
        issues: the issues found.
        workbook: the item's output workbook (validator issues name it).

    Returns:
        Rows with the file taken from the start of each issue's location.
    """
    files = [(str(path), str(path)) for path in item.inputs().values()]
    files += [(str(workbook), str(workbook)), (workbook.name, str(workbook))]
    rows = []
    for issue in issues:
        file, location = str(item.contract), issue.location
        for prefix, path in files:
            if issue.location.startswith(prefix):
                file, location = path, issue.location[len(prefix) :].lstrip(":").strip()
                break
        rows.append(ErrorRow(item.id, file, location, issue.message, issue.code))
    return tuple(rows)


def _stall_for_tests(ordinal: int) -> None:
    limit = os.environ.get(STALL_ENV, "")
    if limit.isdigit() and ordinal >= int(limit):
        time.sleep(3600)
