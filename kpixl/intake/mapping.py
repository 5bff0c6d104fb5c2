"""Mapping files (SPEC §11): how the columns of one platform export become actuals columns."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from kpixl.errors import IntakeError, Issue
from kpixl.intake.issues import MAPPING_INVALID

Rollup = Literal["sum", "mean", "last", "count_distinct"]
Metric = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
Header = Annotated[str, StringConstraints(min_length=1, max_length=200)]
MappingName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]

_DASHES = re.compile(r"\s*[-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d]\s*")
_SPACES = re.compile(r"[\s\u00a0\u3000\u202f]+")
# strptime codes that put a month before a day, or a day before a month, in a format.
_MONTH_CODES = ("%m", "%b", "%B")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def header_key(text: str) -> str:
    """The form headers are compared in: any case, stray spaces and any dash count as one."""
    text = _SPACES.sub(" ", text).strip()
    return _DASHES.sub("-", text).casefold()


class DateColumn(_Model):
    """The column that dates each row, and the formats its text may take (tried in order)."""

    column: Header
    aliases: tuple[Header, ...] = ()
    formats: Annotated[tuple[str, ...], Field(min_length=1)] = Field(
        description="strptime formats, e.g. '%m/%d/%Y'; an Excel date cell needs none. "
        "A text that two formats read as different dates is an error, never a guess."
    )

    @model_validator(mode="after")
    def _check_formats(self) -> Self:
        for fmt in self.formats:
            if "%d" not in fmt and "%j" not in fmt:
                raise ValueError(f"date format {fmt!r} has no day (%d)")
            if "%Y" not in fmt and "%y" not in fmt:
                raise ValueError(f"date format {fmt!r} has no year (%Y or %y)")
            if not any(code in fmt for code in _MONTH_CODES):
                raise ValueError(f"date format {fmt!r} has no month (%m, %b or %B)")
        return self


class SourceColumn(_Model):
    """One actuals column: which export column feeds it and how its rows roll up."""

    metric: Metric = Field(description="the actuals column it produces (gmv, ad_spend, ...)")
    column: Header = Field(description="the export's header, as the platform writes it")
    aliases: tuple[Header, ...] = Field(
        default=(), description="other headers of the same column (other interface languages)"
    )
    rollup: Rollup = Field(
        default="sum",
        description="sum, mean, last (the latest row) or count_distinct (distinct values)",
    )
    blank_as_zero: bool = Field(
        default=False, description="an empty cell counts as 0 (otherwise it is an error)"
    )


class RowFilter(_Model):
    """Which rows of the export count."""

    first_of: Header | None = Field(
        default=None,
        description="line-item exports: only the first row of each value of this column counts",
    )
    exclude_when_filled: tuple[Header, ...] = Field(
        default=(), description="a row with any of these columns filled in is left out"
    )


class Mapping(_Model):
    """How one platform export becomes actuals columns (SPEC §11)."""

    name: MappingName
    description: str = ""
    export: str = Field(default="", description="where the export is downloaded from")
    sheet: str | None = Field(
        default=None, description="XLSX: the sheet to read (default: the first sheet)"
    )
    skip_rows: Annotated[int, Field(ge=0, le=100)] = Field(
        default=0, description="lines before the header row (a title, a date range)"
    )
    decimal: Literal["point", "comma"] = Field(
        default="point", description="comma: numbers are written 1.234,56"
    )
    date: DateColumn
    rows: RowFilter = RowFilter()
    columns: Annotated[tuple[SourceColumn, ...], Field(min_length=1, max_length=100)]

    @field_validator("columns")
    @classmethod
    def _check_columns(cls, columns: tuple[SourceColumn, ...]) -> tuple[SourceColumn, ...]:
        metrics = [c.metric for c in columns]
        repeated = sorted({m for m in metrics if metrics.count(m) > 1})
        if repeated:
            raise ValueError(f"metrics produced twice: {', '.join(repeated)}")
        return columns

    @property
    def metrics(self) -> tuple[str, ...]:
        """The actuals columns this mapping produces, in order."""
        return tuple(c.metric for c in self.columns)


def shipped_mappings() -> tuple[str, ...]:
    """Names of the mappings kpixl ships (``kpixl/data/mappings/*.yaml``)."""
    folder = resources.files("kpixl") / "data" / "mappings"
    names = (entry.name for entry in folder.iterdir() if entry.name.endswith(".yaml"))
    return tuple(sorted(name.removesuffix(".yaml") for name in names))


def load_mapping(spec: str) -> Mapping:
    """Load a mapping by shipped name (``amazon-business-report``) or from a YAML file.

    Args:
        spec: a shipped mapping's name, or the path of a mapping file.

    Returns:
        The validated mapping.

    Raises:
        IntakeError: unknown name, unreadable file, or a mapping that breaks the schema (KX240).
    """
    if spec in shipped_mappings():
        return _shipped(spec)
    path = Path(spec)
    if not path.is_file():
        names = ", ".join(shipped_mappings())
        message = f"no such mapping file, and not a shipped mapping ({names})"
        raise IntakeError.from_issues([Issue(spec, MAPPING_INVALID, message)])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise IntakeError.from_issues([Issue(spec, MAPPING_INVALID, f"cannot read: {e}")]) from e
    return mapping_from_text(text, spec)


@lru_cache(maxsize=32)
def _shipped(name: str) -> Mapping:
    resource = resources.files("kpixl") / "data" / "mappings" / f"{name}.yaml"
    return mapping_from_text(resource.read_text(encoding="utf-8"), name)


def mapping_from_text(text: str, source: str) -> Mapping:
    """Validate a mapping's YAML text; every problem names its key path (KX240)."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise IntakeError.from_issues(
            [Issue(source, MAPPING_INVALID, f"not valid YAML: {e}")]
        ) from e
    try:
        return Mapping.model_validate(data)
    except ValidationError as e:
        issues = [
            Issue(
                f"{source}: {'.'.join(str(part) for part in error['loc']) or '(top)'}",
                MAPPING_INVALID,
                error["msg"],
            )
            for error in e.errors()
        ]
        raise IntakeError.from_issues(issues) from e


def mapping_json_schema() -> dict[str, Any]:
    """The JSON Schema of mapping files (``kpixl schema mapping``)."""
    schema = Mapping.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "kpixl export mapping"
    return schema
