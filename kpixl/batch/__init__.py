"""Portfolio regeneration: many workbooks, in parallel, resumable, with isolated failures."""

from kpixl.batch.discover import Portfolio, PortfolioError, discover
from kpixl.batch.executors import ExecutorError, default_jobs, make_executor
from kpixl.batch.item import process_item
from kpixl.batch.records import BatchItem, BatchUsageError, ErrorRow, ItemResult, ItemTask
from kpixl.batch.run import BatchOptions, BatchReport, ProgressSink, run_batch

__all__ = [
    "BatchItem",
    "BatchOptions",
    "BatchReport",
    "BatchUsageError",
    "ErrorRow",
    "ExecutorError",
    "ItemResult",
    "ItemTask",
    "Portfolio",
    "PortfolioError",
    "ProgressSink",
    "default_jobs",
    "discover",
    "make_executor",
    "process_item",
    "run_batch",
]
