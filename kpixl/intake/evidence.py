"""The evidence document of ``kpixl ingest`` read back (``kpixl quote --evidence``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from kpixl.errors import IntakeError, Issue
from kpixl.intake.issues import EVIDENCE_INVALID

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EvidenceSource(_Model):
    """One export read: its name, mapping, SHA-256, data rows and dates."""

    file: str
    mapping: str
    sha256: Sha256
    rows: Annotated[int, Field(ge=0)]
    first_date: dt.date | None
    last_date: dt.date | None


class EvidencePeriod(_Model):
    """One period as far as the exports covered it."""

    period: str
    days_with_data: Annotated[int, Field(ge=0)]
    complete: bool


class Evidence(_Model):
    """What ``kpixl ingest`` read (SPEC §11), as written to ``--evidence``."""

    contract: str
    through: dt.date
    sources: tuple[EvidenceSource, ...]
    periods: tuple[EvidencePeriod, ...]

    @property
    def complete_periods(self) -> tuple[str, ...]:
        """Labels of the periods ingest wrote to the actuals."""
        return tuple(p.period for p in self.periods if p.complete)


def load_evidence(path: str | Path) -> Evidence:
    """Read an evidence JSON file written by ``kpixl ingest --evidence``.

    Raises:
        IntakeError: unreadable, not JSON, or not the evidence document (KX248).
    """
    label = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise IntakeError.from_issues([Issue(label, EVIDENCE_INVALID, f"cannot read: {e}")]) from e
    try:
        return Evidence.model_validate(data)
    except ValidationError as e:
        issues = [
            Issue(
                f"{label}: {'.'.join(str(part) for part in error['loc']) or '(top)'}",
                EVIDENCE_INVALID,
                error["msg"],
            )
            for error in e.errors()
        ]
        raise IntakeError.from_issues(issues) from e
