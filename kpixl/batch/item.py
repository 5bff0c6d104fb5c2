"""One batch item, start to finish: read, settle, build, check, write atomically.

Two entry points, one computation:

- ``process_item(ItemTask)`` (local executors): reads the input files, builds, writes
  ``OUTDIR/<id>.xlsx`` atomically and returns a small result.
- ``build_item(ItemPayload)`` (Dask): builds from the input files' bytes carried by the task and
  returns the checked workbook's bytes; no file is read or written, so workers need no shared
  file system. The client writes the workbook (``write_built``).

Both give the same bytes for the same inputs, and never raise for a bad contract: the result
carries the issues instead.
"""

from __future__ import annotations

import gc
import hashlib
import os
import time
from collections.abc import Iterable
from pathlib import Path

from kpixl.actuals import Actuals, Adjustments
from kpixl.atomic import atomic_write_bytes
from kpixl.batch.hashing import CODE_UNREADABLE
from kpixl.batch.records import (
    BatchItem,
    BuiltItem,
    ErrorRow,
    ItemPayload,
    ItemResult,
    ItemTask,
    PeriodRow,
)
from kpixl.errors import Issue, KpixlError, WorkbookError
from kpixl.model import Contract, contract_from_bytes
from kpixl.ratecard import RateCard
from kpixl.workbook.settled import resolved, settled
from kpixl.workbook.tables import actuals_from_bytes, adjustments_from_bytes

#: Test hook: items whose ordinal is at least this value sleep instead of running, so a test can
#: kill a batch at a known point. Unset in normal use.
STALL_ENV = "KPIXL_BATCH_TEST_STALL_AFTER"
#: Test hook: the worker building the item with this id exits at once (a worker that dies).
DIE_ENV = "KPIXL_BATCH_TEST_DIE"
CODE_INTERNAL = "KX999"  # a bug in kpixl, isolated to the item that hit it
CODE_WRITE = "KX907"  # the workbook cannot be written to OUTDIR
_CARDS: dict[str, RateCard] = {}


def process_item(task: ItemTask) -> ItemResult:
    """Build, check and write one contract's workbook (the local executors' task).

    Args:
        task: the item, the output folder and the formula mode.

    Returns:
        ``ok`` with the input and output hashes and the summary rows, or ``failed`` with one
        error row per issue. The workbook is at ``OUTDIR/<id>.xlsx`` only when ``ok``.
    """
    _stall_for_tests(task.ordinal)
    started = time.perf_counter()
    try:
        payload = read_payload(task)
    except KpixlError as e:
        return _failed(task, {}, e.issues, started)
    return write_built(task, build_item(payload))


def read_payload(task: ItemTask) -> ItemPayload:
    """Read an item's input files into a payload (on the client, which has the files).

    Args:
        task: the item task.

    Returns:
        The task with the bytes of every input file.

    Raises:
        KpixlError: a file cannot be read (KX910).
    """
    data = {}
    for role, path in task.item.inputs().items():
        try:
            data[role] = path.read_bytes()
        except OSError as e:
            issue = Issue(str(path), CODE_UNREADABLE, f"cannot read: {e.strerror or e}")
            raise KpixlError.from_issues([issue]) from e
    return ItemPayload(task, data)


def build_item(payload: ItemPayload) -> BuiltItem:
    """Settle, build and check one workbook from its inputs' bytes; write nothing.

    Args:
        payload: the task and the bytes of its input files.

    Returns:
        The result (``ok`` with hashes and summary rows, or ``failed`` with error rows) and, when
        ``ok``, the checked workbook's bytes.
    """
    _die_for_tests(payload.task.item.id)
    started = time.perf_counter()
    task = payload.task
    item = task.item
    hashes = {role: hashlib.sha256(raw).hexdigest() for role, raw in payload.data.items()}
    try:
        contract, rows, workbook = _build(payload, hashes)
    except KpixlError as e:
        issues = e.issues or [Issue(str(item.contract), CODE_INTERNAL, str(e))]
        return BuiltItem(_failed(task, hashes, issues, started))
    except Exception as e:  # noqa: BLE001 - a bug hit by one contract must not stop the others
        issue = Issue(str(item.contract), CODE_INTERNAL, f"internal error: {type(e).__name__}: {e}")
        return BuiltItem(_failed(task, hashes, [issue], started))
    seconds = time.perf_counter() - started
    digest = hashlib.sha256(workbook).hexdigest()
    result = ItemResult(item.id, "ok", hashes, digest, contract.currency, contract.decimals, rows,
                        seconds=seconds)  # fmt: skip
    return BuiltItem(result, workbook)


def write_built(task: ItemTask, built: BuiltItem) -> ItemResult:
    """Write a built workbook atomically to ``OUTDIR/<id>.xlsx``; its result, or the failure.

    Args:
        task: the item task (output folder and id).
        built: what ``build_item`` returned.

    Returns:
        The item's result: ``failed`` (KX907) when the workbook cannot be written.
    """
    if built.workbook is None:
        return built.result
    final = task.out_dir / f"{task.item.id}.xlsx"
    try:
        atomic_write_bytes(final, built.workbook)
    except OSError as e:
        issue = Issue(str(final), CODE_WRITE, f"cannot write: {e.strerror or e}")
        errors = error_rows(task.item, [issue], final)
        return ItemResult(task.item.id, "failed", built.result.inputs, errors=errors)
    return built.result


def _failed(
    task: ItemTask, hashes: dict[str, str], issues: list[Issue], started: float
) -> ItemResult:
    errors = error_rows(task.item, issues, task.out_dir / f"{task.item.id}.xlsx")
    return ItemResult(task.item.id, "failed", hashes, errors=errors,
                      seconds=time.perf_counter() - started)  # fmt: skip


def _build(
    payload: ItemPayload, hashes: dict[str, str]
) -> tuple[Contract, tuple[PeriodRow, ...], bytes]:
    task, data = payload.task, payload.data
    item = task.item
    contract = contract_from_bytes(data["contract"], item.contract)
    actuals = None
    if item.actuals is not None:
        actuals = actuals_from_bytes(data["actuals"], str(item.actuals), task.encoding)
    adjustments = None
    if item.adjustments is not None:
        adjustments = adjustments_from_bytes(
            data["adjustments"], str(item.adjustments), task.encoding
        )
    card = None
    if item.rate_card is not None:
        card = _card(data["rate_card"], str(item.rate_card), hashes["rate_card"])
    workbook = checked_workbook(contract, actuals, adjustments, task, card)
    rows = period_rows(contract, actuals, adjustments)
    return contract, rows, workbook


def _card(raw: bytes, label: str, digest: str) -> RateCard:
    """The batch's rate card, parsed once per worker process (and again if its bytes change)."""
    card = _CARDS.get(digest)
    if card is None:
        from kpixl.ratecard import CODE_RATE_CARD_READ, RateCardError, rate_card_from_text
        from kpixl.workbook.layout import sheet_misfits

        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            issue = Issue(label, CODE_RATE_CARD_READ, f"cannot read: {e}")
            raise RateCardError.from_issues([issue]) from e
        card = rate_card_from_text(text, label)
        misfits = sheet_misfits(card, label)
        if misfits:
            raise RateCardError.from_issues(misfits)
        _CARDS.clear()
        _CARDS[digest] = card
    return card


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
    # The workbook's own resolution and settlement of these objects (built just before): the
    # summary rows are its figures, not a second computation of them.
    data = resolved(contract, actuals, adjustments)
    if data is None:
        return ()
    result = settled(contract, data)
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


def checked_workbook(
    contract: Contract,
    actuals: Actuals | None,
    adjustments: Adjustments | None,
    task: ItemTask,
    rate_card: RateCard | None = None,
) -> bytes:
    """Build the workbook in memory and check its bytes (nothing is written).

    The workbook comes from this process's shape cache (``kpixl.workbook.shape``): the first
    workbook of a shape is written by XlsxWriter and checked with ``verify_built`` (the
    validator's structural and formula-integrity rules held against the very bytes that are
    then written, without reading a file back); a further workbook of the shape has exactly its
    formulas, formats and structure, so it is checked for its values' business rule (the fee
    equals the pricing block's price, KX125), and in full once every ``FULL_CHECK_EVERY``.

    Args:
        contract: the contract.
        actuals: its actuals, or None.
        adjustments: its adjustments, or None.
        task: the item task (id, output folder, formula mode).
        rate_card: the RateCard sheet's card, or None for the sample card.

    Returns:
        The workbook's bytes, for ``OUTDIR/<id>.xlsx``.

    Raises:
        WorkbookError: the built workbook fails the check.
    """
    from kpixl.workbook.shape import cache_stats, shaped_build
    from kpixl.workbook.validate import fee_against_price
    from kpixl.workbook.verify import verify_built

    final = task.out_dir / f"{task.item.id}.xlsx"
    shapes = cache_stats()["shapes"]
    built, hit = shaped_build(contract, actuals, adjustments, mode=task.mode, rate_card=rate_card)
    if not hit and cache_stats()["shapes"] > shapes:
        # A new shape stays for the run: move it (and the imports) out of the collector's way,
        # so that full collections stop scanning it for every workbook.
        gc.collect()
        gc.freeze()
    if hit and cache_stats()["hits"] % FULL_CHECK_EVERY != 1:
        # Formulas, formats and the rest are the shape's, checked in full on its first workbook.
        problems = fee_against_price(str(final), built.layout, built.scenario)
    else:
        problems = verify_built(built, str(final))
    _report_shapes()
    if problems:
        raise WorkbookError.from_issues(problems)
    return built.data


#: A workbook from a cached shape is checked in full once in this many (and the first).
FULL_CHECK_EVERY = 64
#: Benchmark hook: a folder where each process keeps its shape-cache counts (<pid>.json).
SHAPE_STATS_ENV = "KPIXL_SHAPE_STATS"


def _report_shapes() -> None:
    folder = os.environ.get(SHAPE_STATS_ENV)
    if folder:
        import json

        from kpixl.workbook.shape import cache_stats

        path = Path(folder) / f"{os.getpid()}.json"
        path.write_text(json.dumps(cache_stats()), encoding="utf-8")


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


def _die_for_tests(item_id: str) -> None:
    if os.environ.get(DIE_ENV) == item_id:
        os._exit(70)


def _stall_for_tests(ordinal: int) -> None:
    limit = os.environ.get(STALL_ENV, "")
    if limit.isdigit() and ordinal >= int(limit):
        time.sleep(3600)
