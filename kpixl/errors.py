"""Errors as data for users (Issue records) and one exception root for programmers."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    #: The parts of ``location`` when the issue was made with :meth:`at` (a workbook's file,
    #: sheet and cell); None when it was located by text alone. Not compared: an issue is its
    #: location text, code, message and severity.
    file: str | None = field(default=None, compare=False, repr=False)
    sheet: str | None = field(default=None, compare=False, repr=False)
    cell: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def at(
        cls,
        file: str,
        code: str,
        message: str,
        severity: Severity = "error",
        *,
        sheet: str | None = None,
        cell: str | None = None,
    ) -> Issue:
        """An issue located by parts: ``file``, ``file:Sheet`` or ``file:Sheet!B7``."""
        location = file if sheet is None else f"{file}:{sheet}"
        location = location if cell is None else f"{location}!{cell}"
        return cls(location, code, message, severity, file, sheet, cell)

    def __str__(self) -> str:
        return f"{self.location}: {self.code} {self.message}"


@dataclass(frozen=True, slots=True)
class Place:
    """Where in a workbook an issue is: a file, a sheet of it, a cell of the sheet."""

    file: str
    sheet: str | None = None
    cell: str | None = None

    def issue(self, code: str, message: str, severity: Severity = "error") -> Issue:
        """An issue at this place (its location text ``file:Sheet!B7``)."""
        return Issue.at(self.file, code, message, severity, sheet=self.sheet, cell=self.cell)

    def __str__(self) -> str:
        return self.issue("", "").location


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
