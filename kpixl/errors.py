"""Errors as data for users (Issue records) and one exception root for programmers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a contract, an actuals file or a workbook.

    ``location`` names the place a user can go to (``contract.yaml: kpis[2].curve.tiers``,
    ``actuals.csv: period 2027-03, column gmv``, ``quote.xlsx:Settlement!F7``); ``code`` is a
    stable identifier documented in README (``KX201``).
    """

    location: str
    code: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.location}: {self.code} {self.message}"


class KpixlError(ValueError):
    """Root of every error kpixl raises on purpose; carries the issues that caused it."""

    def __init__(self, message: str, issues: list[Issue] | None = None) -> None:
        self.issues: list[Issue] = list(issues or [])
        super().__init__(message)

    @classmethod
    def from_issues(cls, issues: list[Issue]) -> KpixlError:
        """Build the error whose message lists every issue, one per line."""
        return cls("\n".join(str(issue) for issue in issues), issues)


class ContractError(KpixlError):
    """A contract file that cannot be loaded or breaks a SPEC §3 rule."""


class ActualsError(KpixlError):
    """Actuals or adjustments that do not fit the contract (SPEC §4)."""


class WorkbookError(KpixlError):
    """A workbook that cannot be read, built or recalculated safely."""


class IntakeError(KpixlError):
    """A platform export or mapping that cannot become actuals (SPEC §11)."""
