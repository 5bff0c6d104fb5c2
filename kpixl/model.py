"""The contract of SPEC §3 as frozen pydantic models, loaded from YAML or JSON."""

from __future__ import annotations

import datetime as dt
import json
import math
from functools import lru_cache
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

from kpixl.errors import ContractError, Issue
from kpixl.ratecard import Platform, QuoteInputs

ZERO_DECIMAL_CURRENCIES = frozenset(
    {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XOF", "XAF", "PYG", "RWF"}
)
WEIGHT_TOLERANCE = 1e-9

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Column = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
Unit = Literal["currency", "count", "ratio", "percent", "days", "score"]
Aggregate = Literal["sum", "mean", "last"]
# The word lists of SPEC §3, one definition each: the engine, the workbook's dropdowns and the
# add-in take them from here (``typing.get_args``).
CurveMode = Literal["stepped", "marginal", "linear"]
Direction = Literal["higher", "lower"]
Op = Literal[">=", ">", "<=", "<"]
Effect = Literal["gate", "multiplier"]
PeriodKind = Literal["month", "quarter"]
SettlementMode = Literal["period", "cumulative"]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]

#: Units whose actuals can never be negative (a margin or a score can).
NON_NEGATIVE_UNITS: frozenset[str] = frozenset({"currency", "count", "ratio", "days"})


class Model(BaseModel):
    """Base of every contract model: immutable, strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Tier(Model):
    """One tier of a payout curve: from this attainment on, this rate."""

    from_: NonNegative = Field(alias="from")
    rate: NonNegative


class Curve(Model):
    """A payout curve: stepped, marginal or linear (points)."""

    mode: CurveMode = "linear"
    tiers: tuple[Tier, ...] = ()

    @model_validator(mode="after")
    def _check_tiers(self) -> Self:
        starts = [tier.from_ for tier in self.tiers]
        if starts != sorted(starts):
            raise ValueError("tiers must be sorted by 'from'")
        if len(set(starts)) != len(starts):
            raise ValueError("each tier's 'from' must be unique")
        if self.mode in ("stepped", "marginal") and not self.tiers:
            raise ValueError(f"a {self.mode} curve needs at least one tier")
        if self.mode == "linear" and len(self.tiers) == 1:
            raise ValueError("a linear curve with tiers needs at least two")
        return self

    @property
    def froms(self) -> tuple[float, ...]:
        """Tier starts, ascending."""
        return tuple(tier.from_ for tier in self.tiers)

    @property
    def rates(self) -> tuple[float, ...]:
        """Tier rates, in tier order."""
        return tuple(tier.rate for tier in self.tiers)


class Measured(Model):
    """Something read from the actuals: one column (``metric``) or a ratio of two."""

    metric: Column | None = None
    ratio: tuple[Column, Column] | None = None
    aggregate: Aggregate | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.metric is not None and self.ratio is not None:
            raise ValueError("give either 'metric' or 'ratio', not both")
        return self

    @property
    def columns(self) -> tuple[str, ...]:
        """The actuals columns this reads."""
        if self.ratio is not None:
            return self.ratio
        return (self.source_column,)

    @property
    def source_column(self) -> str:
        """The single column read when this is not a ratio."""
        raise NotImplementedError


class Kpi(Measured):
    """One KPI: what is measured, against which target, and how it pays."""

    code: Code
    name: str = ""
    name_zh: str | None = None
    unit: Unit = "currency"
    direction: Direction = "higher"
    weight: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
    target: Finite | tuple[Finite, ...]
    baseline: Finite | tuple[Finite, ...] | None = None
    ramp: tuple[Positive, ...] | None = None
    threshold: NonNegative | None = None
    attainment_cap: Positive | None = None
    factor_cap: NonNegative | None = None
    curve: Curve | None = None
    source: str | None = None
    definition: str | None = None

    @model_validator(mode="after")
    def _check_bounds(self) -> Self:
        if (
            self.threshold is not None
            and self.attainment_cap is not None
            and self.threshold > self.attainment_cap
        ):
            raise ValueError("threshold must not exceed attainment_cap")
        return self

    @property
    def source_column(self) -> str:
        """The actuals column of a non-ratio KPI: ``metric``, else the KPI's code."""
        return self.metric or self.code

    @property
    def rolls_up(self) -> Aggregate:
        """How to-date figures roll up (SPEC §5.8)."""
        if self.aggregate is not None:
            return self.aggregate
        return "sum" if self.unit in ("currency", "count") else "mean"

    def effective_targets(self, periods: int) -> tuple[float, ...]:
        """Target of every period 1..n after staged goals and ramp (SPEC §5.1)."""
        return _per_period(self.target, periods, self.ramp)

    def baselines(self, periods: int) -> tuple[float, ...] | None:
        """Baseline of every period 1..n, or None."""
        if self.baseline is None:
            return None
        return _per_period(self.baseline, periods, None)


class Guardrail(Measured):
    """A metric that gates or scales the whole bonus."""

    op: Op
    bound: Finite
    effect: Effect = "gate"
    multiplier: Annotated[float, Field(ge=0, le=1)] | None = None

    @model_validator(mode="after")
    def _check_effect(self) -> Self:
        if self.metric is None and self.ratio is None:
            raise ValueError("a guardrail needs 'metric' or 'ratio'")
        if self.effect == "multiplier" and self.multiplier is None:
            raise ValueError("effect 'multiplier' needs a 'multiplier' in [0, 1]")
        if self.effect == "gate" and self.multiplier is not None:
            raise ValueError("a 'gate' takes no 'multiplier' (use effect: multiplier)")
        return self

    @property
    def source_column(self) -> str:
        """The actuals column this guardrail reads."""
        return self.metric or ""

    @property
    def rolls_up(self) -> Aggregate:
        """To-date guardrail values are means unless told otherwise (SPEC §5.8)."""
        return self.aggregate or "mean"

    @property
    def breach_multiplier(self) -> float:
        """What a breach multiplies the bonus by."""
        return 0.0 if self.effect == "gate" else float(self.multiplier or 0.0)


class Fee(Model):
    """Base fee and bonus pool per period, with optional caps."""

    base: NonNegative
    pool: NonNegative
    period_cap: NonNegative | None = None
    contract_cap: NonNegative | None = None


class MinInput(Model):
    """Person-days the provider must deliver each period."""

    person_days: Positive


class ExitClause(Model):
    """The client may end the contract after this many consecutive missed periods."""

    threshold: NonNegative
    consecutive: Annotated[int, Field(ge=1)]


class Contract(Model):
    """One client, one provider, one set of KPIs, N settlement periods."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
    client: str
    provider: str
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    currency_decimals: Annotated[int, Field(ge=0, le=4)] | None = None
    platform: Platform
    markets: tuple[str, ...] = ()
    category: str | None = None
    start: dt.date
    period: PeriodKind = "month"
    periods: Annotated[int, Field(ge=1, le=120)]
    settlement: SettlementMode = "period"
    clawback: bool = False
    revenue_kpi: Code | None = None
    fee: Fee
    kpis: Annotated[tuple[Kpi, ...], Field(min_length=1, max_length=20)]
    guardrails: tuple[Guardrail, ...] = ()
    min_input: MinInput | None = None
    exit: ExitClause | None = None
    # Sales inputs the fee was priced from (SPEC §6); `fee` stays the contract's truth.
    quote: QuoteInputs | None = None

    @field_validator("start", mode="before")
    @classmethod
    def _date_only(cls, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.date()
        return value

    @model_validator(mode="after")
    def _check_contract(self) -> Self:
        codes = [kpi.code for kpi in self.kpis]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"KPI codes must be unique; repeated: {', '.join(duplicates)}")
        total = math.fsum(kpi.weight for kpi in self.kpis)
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            raise ValueError(f"KPI weights must sum to 1, they sum to {total:.12g}")
        if self.revenue_kpi is not None and self.revenue_kpi not in codes:
            raise ValueError(f"revenue_kpi {self.revenue_kpi!r} names no KPI ({', '.join(codes)})")
        return self

    @property
    def decimals(self) -> int:
        """Decimals of the currency: the override, else ISO 4217's minor unit."""
        if self.currency_decimals is not None:
            return self.currency_decimals
        return 0 if self.currency in ZERO_DECIMAL_CURRENCIES else 2

    def period_label(self, index: int) -> str:
        """The label of period ``index`` (1-based): ``2027-01`` or ``2027-Q1``."""
        return _label(self.start, self.period, index)

    @property
    def period_labels(self) -> tuple[str, ...]:
        """Labels of periods 1..n."""
        return _labels(self.start, self.period, self.periods)

    @property
    def period_numbers(self) -> dict[str, int]:
        """The 1-based number of each period label (a shared cache: do not modify)."""
        return _numbers(self.start, self.period, self.periods)

    def kpi(self, code: str) -> Kpi:
        """The KPI with this code."""
        for kpi in self.kpis:
            if kpi.code == code:
                return kpi
        raise KeyError(code)

    @property
    def required_columns(self) -> dict[str, str]:
        """Every actuals column the settlement needs, with who needs it."""
        needed: dict[str, str] = {}
        for kpi in self.kpis:
            for column in kpi.columns:
                needed.setdefault(column, f"KPI {kpi.code}")
        for i, guardrail in enumerate(self.guardrails):
            for column in guardrail.columns:
                needed.setdefault(column, f"guardrails[{i}]")
        if self.min_input is not None:
            needed.setdefault("person_days", "min_input")
        return needed

    @property
    def non_negative_columns(self) -> dict[str, str]:
        """Columns that must not be negative (SPEC §4), each with why; a ratio's denominator
        (``why`` starting "the denominator") must moreover not be 0."""
        rules: dict[str, str] = {}
        for kpi in self.kpis:
            if kpi.unit in NON_NEGATIVE_UNITS:
                for column in kpi.columns:
                    rules.setdefault(column, f"KPI {kpi.code} is in {kpi.unit}")
            if kpi.ratio is not None:
                rules[kpi.ratio[1]] = f"the denominator of KPI {kpi.code}"
        for i, guardrail in enumerate(self.guardrails):
            if guardrail.ratio is not None:
                rules[guardrail.ratio[1]] = f"the denominator of guardrails[{i}]"
        if self.min_input is not None:
            rules.setdefault("person_days", "person-days")
        return rules


def _label(start: dt.date, period: str, index: int) -> str:
    months = 1 if period == "month" else 3
    first = (start.month - 1) // months * months
    month0 = start.year * 12 + first + (index - 1) * months
    year, month = divmod(month0, 12)
    if period == "month":
        return f"{year:04d}-{month + 1:02d}"
    return f"{year:04d}-Q{month // 3 + 1}"


# Keyed on the fields that define the labels, so copies of a contract can never see stale ones.
@lru_cache(maxsize=4096)
def _labels(start: dt.date, period: str, periods: int) -> tuple[str, ...]:
    return tuple(_label(start, period, p) for p in range(1, periods + 1))


@lru_cache(maxsize=4096)
def _numbers(start: dt.date, period: str, periods: int) -> dict[str, int]:
    return {label: p for p, label in enumerate(_labels(start, period, periods), start=1)}


def _per_period(
    value: float | tuple[float, ...], periods: int, ramp: tuple[float, ...] | None
) -> tuple[float, ...]:
    values = value if isinstance(value, tuple) else (value,) * periods
    if ramp is None:
        return tuple(values)
    return tuple(v * ramp[i] if i < len(ramp) else v for i, v in enumerate(values))


def check_rules(contract: Contract) -> list[Issue]:
    """Rules of SPEC §3 that span fields the models cannot see at once (periods vs lists)."""
    issues: list[Issue] = []
    n = contract.periods
    for k, kpi in enumerate(contract.kpis):
        where = f"kpis[{k}]"
        for key in ("target", "baseline"):
            value = getattr(kpi, key)
            if isinstance(value, tuple) and len(value) != n:
                issues.append(
                    Issue(f"{where}.{key}", "KX103", f"has {len(value)} entries; periods is {n}")
                )
        if kpi.ramp is not None and len(kpi.ramp) > n:
            issues.append(
                Issue(f"{where}.ramp", "KX104", f"has {len(kpi.ramp)} entries; periods is {n}")
            )
        if issues:
            continue
        issues.extend(_check_targets(contract, k, kpi))
    return issues


def _check_targets(contract: Contract, k: int, kpi: Kpi) -> list[Issue]:
    issues: list[Issue] = []
    targets = kpi.effective_targets(contract.periods)
    baselines = kpi.baselines(contract.periods)
    for p, target in enumerate(targets, start=1):
        label = contract.period_label(p)
        where = f"kpis[{k}].target"
        if target <= 0:
            issues.append(
                Issue(
                    where, "KX105", f"period {p} ({label}): effective target {target:g} must be > 0"
                )
            )
        elif baselines is not None:
            base = baselines[p - 1]
            if kpi.direction == "higher" and not target > base:
                issues.append(
                    Issue(
                        where,
                        "KX106",
                        f"period {p} ({label}): target {target:g} must be above "
                        f"baseline {base:g} for a 'higher' KPI",
                    )
                )
            if kpi.direction == "lower" and not target < base:
                issues.append(
                    Issue(
                        where,
                        "KX106",
                        f"period {p} ({label}): target {target:g} must be below "
                        f"baseline {base:g} for a 'lower' KPI",
                    )
                )
    return issues


def contract_from_data(data: Any, source: str = "<data>") -> Contract:
    """Validate parsed contract data.

    Args:
        data: the mapping read from YAML or JSON.
        source: the file name used in error messages.

    Returns:
        The contract.

    Raises:
        ContractError: naming the file, the key path and the rule for every problem.
    """
    if not isinstance(data, dict):
        issue = Issue(source, "KX101", "a contract file must hold a mapping of keys at its top")
        raise ContractError.from_issues([issue])
    try:
        contract = Contract.model_validate(data)
    except ValidationError as e:
        raise ContractError.from_issues(_issues_from(e, source)) from e
    issues = [Issue(f"{source}: {i.location}", i.code, i.message) for i in check_rules(contract)]
    if issues:
        raise ContractError.from_issues(issues)
    return contract


def _issues_from(error: ValidationError, source: str) -> list[Issue]:
    issues = []
    for detail in error.errors(include_url=False):
        path = _key_path(detail["loc"])
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            message = "unknown key (typos must not silently change money)"
        elif detail["type"] == "missing":
            message = "required key is missing"
        issues.append(Issue(f"{source}: {path or '(top)'}", "KX102", message))
    return issues


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("float", "tuple[float, ...]", "function-after[_check_tiers(), Curve]"):
            continue  # union branch names pydantic adds; they mean nothing to a user
        else:
            path += f".{part}" if path else str(part)
    return path.replace("from_", "from")


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, leaving dates as text so the model checks them and names the key."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FastLoader: type | None = None
if hasattr(yaml, "CSafeLoader"):  # libyaml's parser: the same documents, several times faster

    class _CLoader(yaml.CSafeLoader):
        """The C safe loader, leaving dates as text like ``_Loader``."""

    _CLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
    _FastLoader = _CLoader


def _load_yaml(text: str) -> Any:
    """Parse YAML with the C loader where there is one; errors are always the Python loader's
    (its messages quote the offending line), by parsing a second time when the first fails."""
    if _FastLoader is not None:
        try:
            return yaml.load(text, _FastLoader)
        except yaml.YAMLError:
            pass
    return yaml.load(text, _Loader)


def load_contract(path: str | Path) -> Contract:
    """Load a contract from a YAML or JSON file.

    Args:
        path: the contract file (``.yaml``, ``.yml`` or ``.json``).

    Returns:
        The validated contract.

    Raises:
        ContractError: the file is missing, unreadable, or breaks a rule of SPEC §3.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ContractError.from_issues([Issue(str(path), "KX100", f"cannot read: {e}")]) from e
    return contract_from_bytes(raw, path)


def contract_from_bytes(raw: bytes, path: str | Path) -> Contract:
    """Load a contract from the bytes of a YAML or JSON file (a batch worker has no file).

    Args:
        raw: the file's bytes.
        path: the file's name as the user gave it: its suffix picks JSON or YAML, and every
            message names it. It is never opened.

    Returns:
        The validated contract, as ``load_contract`` of that file would give.

    Raises:
        ContractError: the bytes are not UTF-8, not YAML/JSON, or break a rule of SPEC §3.
    """
    path = Path(path)
    label = str(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ContractError.from_issues([Issue(label, "KX100", f"cannot read: {e}")]) from e
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else _load_yaml(text)
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        raise ContractError.from_issues([Issue(label, "KX101", f"not valid YAML/JSON: {e}")]) from e
    return contract_from_data(data, label)


def contract_json_schema() -> dict[str, Any]:
    """The JSON Schema of a contract file, for editors and other tools."""
    schema = Contract.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "kpixl contract"
    return schema
