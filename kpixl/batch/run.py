"""Run a batch: discover, skip what is up to date, build the rest in parallel, write the outputs."""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from kpixl import __version__
from kpixl.atomic import is_atomic_temp
from kpixl.batch.discover import Portfolio, discover
from kpixl.batch.executors import Executor, default_jobs, make_executor
from kpixl.batch.hashing import hash_inputs
from kpixl.batch.manifest import Manifest
from kpixl.batch.outputs import write_errors, write_summaries
from kpixl.batch.records import BatchItem, BatchUsageError, ItemResult, ItemTask, Mode
from kpixl.errors import Issue, KpixlError
from kpixl.workbook.layout import load_fitting_card

LOCK = ".kpixl-batch.lock"
CODE_OUT_DIR = "KX906"  # OUTDIR cannot be used
CODE_ENCODING = "KX200"  # the actuals' code for an unknown encoding


@dataclass(frozen=True)
class BatchOptions:
    """How to run a batch (the ``kpixl batch`` options)."""

    out_dir: Path
    jobs: int | None = None
    mode: Mode = "native"
    force: bool = False
    executor: str = "local"
    #: Ignored: each finished item is journaled at once (kept for callers that pass it).
    manifest_interval: float = 1.0
    #: Rate card YAML for every workbook's RateCard sheet; None: the shipped sample card.
    rate_card: Path | None = None
    #: Encoding of CSV inputs that are neither UTF-8 nor marked by a BOM (e.g. gb18030).
    encoding: str | None = None


class ProgressSink(Protocol):
    """Receives progress as items finish (the CLI's progress bar; tests may pass nothing)."""

    def start(self, total: int, skipped: int, workers: int) -> None:
        """Called once: the items to build, the items skipped as up to date, the workers."""

    def advance(self, result: ItemResult) -> None:
        """Called once per built or failed item."""

    def stop(self) -> None:
        """Called once at the end, also after an error."""


class NullProgress:
    """A progress receiver that shows nothing."""

    def start(self, total: int, skipped: int, workers: int) -> None:
        """Ignore the start."""

    def advance(self, result: ItemResult) -> None:
        """Ignore an item."""

    def stop(self) -> None:
        """Ignore the end."""


@dataclass(frozen=True)
class BatchReport:
    """The outcome of a batch: every item's result and the wall time."""

    results: tuple[ItemResult, ...]
    seconds: float
    out_dir: Path
    workers: int

    def count(self, status: str) -> int:
        """The number of items with a status: ``ok``, ``skipped`` or ``failed``."""
        return sum(1 for result in self.results if result.status == status)

    @property
    def failed(self) -> int:
        """The number of failed items."""
        return self.count("failed")

    @property
    def workbooks_per_second(self) -> float:
        """Workbooks built (not skipped) per second of wall time."""
        return self.count("ok") / self.seconds if self.seconds > 0 else 0.0


def run_batch(
    portfolio: Path,
    options: BatchOptions,
    progress: ProgressSink | None = None,
    executor: Executor | None = None,
) -> BatchReport:
    """Regenerate the workbooks of a portfolio into ``options.out_dir``.

    Args:
        portfolio: a folder of contracts and actuals, or a register (see ``discover``).
        options: output folder, jobs, formula mode, force, executor.
        progress: optional progress receiver.
        executor: an executor to use instead of the one ``options.executor`` names.

    Returns:
        The report; failed items are also in ``OUTDIR/errors.csv``.

    Raises:
        BatchUsageError: the portfolio cannot be read, OUTDIR is unusable or busy, or the
            executor cannot start.
        RateCardError: the rate card cannot be read or does not fit the RateCard sheet.
    """
    started = time.perf_counter()
    _check_encoding(options.encoding)
    found = discover(portfolio, options.encoding)
    if options.rate_card is not None:
        card_file = options.rate_card.resolve()
        load_fitting_card(card_file)  # once here: a bad card would fail every item alike
        items = tuple(dataclasses.replace(item, rate_card=card_file) for item in found.items)
        found = Portfolio(items, found.failures)
    out_dir = options.out_dir
    _check_out_dir(portfolio, out_dir)
    engine = executor or make_executor(options.executor, options.jobs or default_jobs())
    sink = progress or NullProgress()
    with _locked(out_dir):
        _remove_leftovers(out_dir)
        manifest = Manifest(out_dir, __version__, options.mode, options.encoding)
        manifest.keep_only({item.id for item in found.items})
        todo, results = _plan(found, manifest, options)
        try:
            skipped = len(results) - len(found.failures)
            if todo:
                with engine:
                    sink.start(len(todo), skipped, engine.workers)
                    results += _build_all(engine, _tasks(todo, options), manifest, sink)
            else:
                sink.start(0, skipped, engine.workers)
        finally:
            manifest.save()
            sink.stop()
        write_summaries(out_dir, [r for r in results if r.status != "failed"])
        write_errors(out_dir, results)
    ordered = tuple(sorted(results, key=lambda r: r.id))
    return BatchReport(ordered, time.perf_counter() - started, out_dir, engine.workers)


def _build_all(
    engine: Executor, tasks: Sequence[ItemTask], manifest: Manifest, sink: ProgressSink
) -> list[ItemResult]:
    """Run the tasks, recording each result in the manifest's journal as it arrives."""
    files = {task.item.id: task.item.inputs() for task in tasks}
    results: list[ItemResult] = []
    for result in engine.results(tasks):
        if result is not None:
            manifest.record(result, files[result.id])
            results.append(result)
            sink.advance(result)
    return results


def _plan(
    found: Portfolio, manifest: Manifest, options: BatchOptions
) -> tuple[list[BatchItem], list[ItemResult]]:
    """Split items into those to build and those up to date (as ``skipped`` results)."""
    todo: list[BatchItem] = []
    results: list[ItemResult] = list(found.failures)
    for item in found.items:
        output = options.out_dir / f"{item.id}.xlsx"
        skipped = None
        if not options.force:
            try:
                skipped = manifest.up_to_date(item.id, hash_inputs(item), output)
            except KpixlError:
                skipped = None  # unreadable input: the worker reports it
        if skipped is None:
            todo.append(item)
        else:
            results.append(skipped)
    return todo, results


def _tasks(items: Sequence[BatchItem], options: BatchOptions) -> list[ItemTask]:
    return [
        ItemTask(i, item, options.out_dir, options.mode, options.encoding)
        for i, item in enumerate(items)
    ]


def _check_encoding(encoding: str | None) -> None:
    """An unknown ``--encoding`` is a usage error once, not a failure of every item."""
    if encoding is None:
        return
    try:
        codecs.lookup(encoding)
    except LookupError as e:
        issue = Issue("--encoding", CODE_ENCODING, f"unknown encoding {encoding!r}")
        raise BatchUsageError.from_issues([issue]) from e


def _check_out_dir(portfolio: Path, out_dir: Path) -> None:
    if portfolio.is_dir() and out_dir.resolve() == portfolio.resolve():
        message = (
            "OUTDIR must not be the portfolio folder (its manifest.json would look like a contract)"
        )
        raise BatchUsageError.from_issues([Issue(str(out_dir), CODE_OUT_DIR, message)])
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        issue = Issue(str(out_dir), CODE_OUT_DIR, f"cannot create: {e.strerror or e}")
        raise BatchUsageError.from_issues([issue]) from e


@contextlib.contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on OUTDIR: two batches writing one folder would fight over it.

    The lock is the operating system's (flock), so a killed batch releases it automatically.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no flock; one batch per OUTDIR is then the user's care
        yield
        return
    handle: IO[bytes] = open(out_dir / LOCK, "ab")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            message = "another kpixl batch is writing to this folder"
            raise BatchUsageError.from_issues([Issue(str(out_dir), CODE_OUT_DIR, message)]) from e
        yield
    finally:
        handle.close()


def _remove_leftovers(out_dir: Path) -> None:
    """Remove what an interrupted batch may have left: temporary files of atomic writes."""
    for path in out_dir.iterdir():
        if path.is_file() and is_atomic_temp(path):
            path.unlink(missing_ok=True)
