"""The batch progress bar (rate, ETA) and summary table: the only module besides the CLI on rich."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from kpixl.batch.records import ItemResult
from kpixl.batch.run import BatchReport


class RateColumn(ProgressColumn):
    """Workbooks per second, over rich's recent-speed window."""

    def render(self, task: Task) -> Text:
        """The rate as ``12.3 wb/s`` (``-`` until rich has measured one)."""
        speed = task.finished_speed or task.speed
        return Text("- wb/s" if speed is None else f"{speed:.1f} wb/s", style="progress.data.speed")


class BatchProgress:
    """A rich progress bar on a console (stderr): done / total, rate, elapsed, ETA, failures."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar: Progress | None = None
        self.task: TaskID | None = None
        self.failed = 0
        self.workers = 1

    def start(self, total: int, skipped: int, workers: int) -> None:
        """Show the bar for ``total`` items; say how many were skipped as up to date."""
        if skipped:
            self.console.print(f"{skipped} workbook(s) up to date, skipped")
        if not total:
            return
        self.bar = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            speed_estimate_period=10.0,
        )
        self.bar.start()
        self.workers = workers
        self.task = self.bar.add_task(self._description(workers), total=total)

    def _description(self, workers: int) -> str:
        failed = f", [red]{self.failed} failed[/red]" if self.failed else ""
        return f"building ({workers} worker{'s' if workers != 1 else ''}{failed})"

    def advance(self, result: ItemResult) -> None:
        """Count one finished item."""
        if self.bar is None or self.task is None:
            return
        if result.status == "failed":
            self.failed += 1
        self.bar.update(self.task, advance=1, description=self._description(self.workers))

    def stop(self) -> None:
        """Remove nothing: leave the final bar on screen and release the terminal."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def summary_table(report: BatchReport) -> Table:
    """The batch summary: items ok / skipped / failed, wall time, workbooks per second.

    Args:
        report: the batch report.

    Returns:
        A rich table to print.
    """
    table = Table(title=f"kpixl batch → {report.out_dir}", title_justify="left")
    for name in ("ok", "skipped", "failed", "workers", "wall time", "workbooks/s"):
        table.add_column(name, justify="right")
    table.add_row(
        str(report.count("ok")),
        str(report.count("skipped")),
        f"[red]{report.failed}[/red]" if report.failed else "0",
        str(report.workers),
        f"{report.seconds:.2f} s",
        f"{report.workbooks_per_second:.1f}",
    )
    return table
