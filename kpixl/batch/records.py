"""The small, picklable records a batch passes between the runner and its worker processes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kpixl.errors import KpixlError

Mode = Literal["native", "udf"]
Status = Literal["ok", "skipped", "failed"]
#: The input roles of an item, in the order they are hashed and reported.
ROLES = ("contract", "actuals", "adjustments", "rate_card")


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One contract of a portfolio: its output name and the files it is built from."""

    id: str
    contract: Path
    actuals: Path | None = None
    adjustments: Path | None = None
    #: The rate card of the RateCard sheet (``kpixl batch --rate-card``); None: the sample.
    rate_card: Path | None = None

    def inputs(self) -> dict[str, Path]:
        """The input files by role (present ones): a changed rate card rebuilds the item too."""
        files = {
            "contract": self.contract,
            "actuals": self.actuals,
            "adjustments": self.adjustments,
            "rate_card": self.rate_card,
        }
        return {role: path for role, path in files.items() if path is not None}


@dataclass(frozen=True, slots=True)
class ItemTask:
    """What a worker needs to build one workbook: plain paths and options, nothing heavy."""

    ordinal: int
    item: BatchItem
    out_dir: Path
    mode: Mode
    #: Encoding of CSV inputs that are neither UTF-8 nor marked by a BOM (``--encoding``).
    encoding: str | None = None


@dataclass(frozen=True, slots=True)
class ItemPayload:
    """An item task with its input files' bytes: all a worker without the client's disk needs.

    The paths in ``task`` only name the files in messages and ``errors.csv``; the worker never
    opens them, so they may be relative to the client's folder.
    """

    task: ItemTask
    #: The bytes of each input file, by role (the roles of ``task.item.inputs()``).
    data: dict[str, bytes]


@dataclass(frozen=True, slots=True)
class ErrorRow:
    """One row of ``errors.csv``: an Issue of one contract, with the file it concerns."""

    contract: str
    file: str
    location: str
    message: str
    code: str


@dataclass(frozen=True, slots=True)
class PeriodRow:
    """One settled period of a contract, as the portfolio summary needs it."""

    period: str
    base: float
    bonus: float
    total: float
    revenue: float | None
    exit_eligible: bool


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What became of one item: its input and output hashes, summary rows, or its errors."""

    id: str
    status: Status
    inputs: dict[str, str]
    output_sha256: str | None = None
    currency: str = ""
    decimals: int = 2
    rows: tuple[PeriodRow, ...] = ()
    errors: tuple[ErrorRow, ...] = ()
    seconds: float = 0.0


class BatchUsageError(KpixlError):
    """The batch cannot start as asked: a bad portfolio path, OUTDIR, or executor (exit 2)."""


@dataclass(frozen=True, slots=True)
class BuiltItem:
    """A worker's answer to a payload: the result, and the checked workbook's bytes when ``ok``.

    The workbook is not written yet: the caller writes it to ``OUTDIR/<id>.xlsx``.
    """

    result: ItemResult
    workbook: bytes | None = None
