"""Where batch items run: this process, a local process pool, or a Dask cluster.

Every executor yields results as they complete, plus ``None`` whenever a tick passes without one.
At most a window of tasks is in flight: memory stays flat and a crash loses little. Local
workers run ``process_item`` (they read and write the files themselves); Dask workers run
``build_item`` on a payload carrying the input files' bytes and return the workbook's bytes,
which this process writes: a cluster needs no file system shared with the client.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from kpixl.batch.item import build_item, error_rows, process_item, read_payload, write_built
from kpixl.batch.records import BatchUsageError, ItemResult, ItemTask
from kpixl.errors import Issue, KpixlError

TICK = 0.5
WINDOW_PER_WORKER = 4
CODE_WORKER_LOST = "KX998"  # the worker running the item died or the cluster lost it
CODE_EXECUTOR = "KX905"  # the executor option cannot be honoured
#: Imported once by the fork server, so each worker starts with them already loaded.
PRELOAD = ["kpixl.batch.item", "kpixl.workbook.build", "kpixl.workbook.validate"]


class ExecutorError(BatchUsageError):
    """The executor asked for cannot run: unknown name, Dask missing, cluster unreachable."""


class Executor(Protocol):
    """Runs tasks and yields their results (or None on an idle tick) as they complete."""

    workers: int

    def results(self, tasks: Sequence[ItemTask]) -> Iterator[ItemResult | None]:
        """Yield one result per task, in completion order, and None on idle ticks."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


def default_jobs() -> int:
    """All the cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def make_executor(spec: str, jobs: int) -> Executor:
    """The executor a ``--executor`` value names.

    Args:
        spec: ``local``, ``dask-local`` or ``dask://HOST:PORT`` (also ``tcp://``, ``tls://``).
        jobs: worker processes for ``local`` and ``dask-local``; 1 runs ``local`` in-process.

    Returns:
        An executor, to be used as a context manager.

    Raises:
        ExecutorError: the name is unknown or Dask is not installed.
    """
    if spec == "local":
        return InProcess() if jobs == 1 else LocalPool(jobs)
    if spec == "dask-local":
        return DaskExecutor(None, jobs)
    for scheme in ("dask://", "tcp://", "tls://"):
        if spec.startswith(scheme) and len(spec) > len(scheme):
            address = spec.replace("dask://", "tcp://", 1)
            return DaskExecutor(address, jobs)
    message = f"unknown executor {spec!r}: use local, dask-local or dask://HOST:PORT"
    raise ExecutorError.from_issues([Issue("--executor", CODE_EXECUTOR, message)])


def lost(task: ItemTask, error: BaseException) -> ItemResult:
    """The failed result of a task whose worker died or whose future raised."""
    message = f"the worker running this item was lost: {type(error).__name__}: {error}"
    issue = Issue(str(task.item.contract), CODE_WORKER_LOST, message)
    return ItemResult(task.item.id, "failed", {},
                      errors=error_rows(task.item, [issue], _workbook(task)))  # fmt: skip


def _workbook(task: ItemTask) -> Path:
    return task.out_dir / f"{task.item.id}.xlsx"


class _Windowed:
    """The completion loop shared by the pool executors: submit a window, wait, refill."""

    workers = 1

    def submit(self, task: ItemTask) -> Any:
        """Start a task: a future, or its ItemResult when it is decided without a worker."""
        raise NotImplementedError

    def finish(self, task: ItemTask, value: Any) -> ItemResult:
        """The result of a task from its future's value."""
        return value  # type: ignore[no-any-return]

    def wait_any(self, futures: list[Any], timeout: float) -> Iterable[Any]:
        raise NotImplementedError

    def results(self, tasks: Sequence[ItemTask]) -> Iterator[ItemResult | None]:
        queue = iter(tasks)
        pending: dict[Any, ItemTask] = {}
        window = max(1, self.workers * WINDOW_PER_WORKER)
        while True:
            while len(pending) < window and (task := next(queue, None)) is not None:
                try:
                    future = self.submit(task)
                except Exception as e:  # noqa: BLE001 - a cluster gone away loses the item only
                    future = lost(task, e)
                if isinstance(future, ItemResult):
                    yield future
                else:
                    pending[future] = task
            if not pending:
                return
            done = list(self.wait_any(list(pending), TICK))
            if not done:
                yield None
            for future in done:
                task = pending.pop(future)
                try:
                    value = future.result()
                except Exception as e:  # noqa: BLE001 - one lost worker must not stop the batch
                    yield lost(task, e)
                else:
                    yield self.finish(task, value)
                del future


class InProcess:
    """Runs every item in the calling process, one after the other (``--jobs 1``)."""

    workers = 1

    def results(self, tasks: Sequence[ItemTask]) -> Iterator[ItemResult | None]:
        """Yield each task's result in order."""
        for task in tasks:
            yield process_item(task)

    def __enter__(self) -> InProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class LocalPool(_Windowed):
    """A pool of worker processes on this machine, started from a fork server where there is one.

    A fork server (rather than fork) because the parent may run threads (the progress bar), and
    forking a threaded process can deadlock; it also imports kpixl once for all workers.
    """

    def __init__(self, jobs: int) -> None:
        self.workers = jobs
        self.pool: ProcessPoolExecutor | None = None

    def _context(self) -> Any:
        if sys.platform != "win32" and "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            return context
        return multiprocessing.get_context("spawn")

    def _start(self) -> ProcessPoolExecutor:
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._context())
        return self.pool

    def submit(self, task: ItemTask) -> Future[ItemResult]:
        pool = self.pool or self._start()
        try:
            return pool.submit(process_item, task)
        except BrokenProcessPool:
            # A worker died (out of memory, killed): its items are reported lost; start afresh.
            pool.shutdown(wait=False, cancel_futures=True)
            return self._start().submit(process_item, task)

    def wait_any(self, futures: list[Any], timeout: float) -> Iterable[Any]:
        done, _ = wait(futures, timeout=timeout, return_when=FIRST_COMPLETED)
        return done

    def __enter__(self) -> LocalPool:
        self._start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


class DaskExecutor(_Windowed):
    """Runs items on a Dask cluster: an existing scheduler, or a LocalCluster started here.

    Tasks carry bytes both ways: this process reads an item's input files into the task, the
    worker returns the checked workbook's bytes and this process writes them atomically. Workers
    need kpixl installed and nothing else: no shared file system, no paths of the client's.
    """

    def __init__(self, address: str | None, jobs: int, processes: bool = True) -> None:
        self.address = address
        self.jobs = jobs
        self.processes = processes
        self.client: Any = None
        self.cluster: Any = None
        self.workers = jobs

    def __enter__(self) -> DaskExecutor:
        distributed = _import_distributed()
        try:
            if self.address is None:
                self.cluster = distributed.LocalCluster(
                    n_workers=self.jobs, threads_per_worker=1, processes=self.processes,
                    dashboard_address=None,
                )  # fmt: skip
                self.client = distributed.Client(self.cluster)
            else:
                self.client = distributed.Client(self.address, timeout="10s")
        except OSError as e:
            self.__exit__(None, None, None)
            message = f"cannot reach the Dask scheduler {self.address}: {e}"
            raise ExecutorError.from_issues([Issue("--executor", CODE_EXECUTOR, message)]) from e
        self.workers = max(1, sum(self.client.nthreads().values()))
        return self

    def submit(self, task: ItemTask) -> Any:
        try:
            payload = read_payload(task)
        except KpixlError as e:
            return ItemResult(task.item.id, "failed", {},
                              errors=error_rows(task.item, e.issues, _workbook(task)))  # fmt: skip
        return self.client.submit(build_item, payload, pure=False)

    def finish(self, task: ItemTask, value: Any) -> ItemResult:
        return write_built(task, value)

    def wait_any(self, futures: list[Any], timeout: float) -> Iterable[Any]:
        distributed = _import_distributed()
        try:
            finished = distributed.wait(futures, timeout=timeout, return_when="FIRST_COMPLETED")
            return list(finished.done)
        except TimeoutError:
            return ()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as e:
        message = "Dask is not installed: pip install 'kpixl[dask]' (or 'dask[distributed]')"
        raise ExecutorError.from_issues([Issue("--executor", CODE_EXECUTOR, message)]) from e
    return distributed
