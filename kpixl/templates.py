"""KPI benchmark templates: a contract skeleton whose targets are stated relative to history.

``kpixl init`` reads a template (``kpixl/data/templates/NAME.yaml``, which the repository's
``workbooks/templates`` links to) and a monthly history CSV, sets each KPI's target from the
last months of history and a growth expectation, prices the fee from the template's quote
section and a rate card, and returns a contract a sales rep can edit.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kpixl.actuals import Actuals, parse_number
from kpixl.engine.pricing import price_contract
from kpixl.engine.rounding import excel_round
from kpixl.errors import Issue, KpixlError
from kpixl.model import Contract, contract_from_data
from kpixl.ratecard import RateCard, issues_from, load_rate_card

#: Shipped as package data (``workbooks/templates`` in the repository links here).
TEMPLATES_DIR = Path(__file__).resolve().parent / "data" / "templates"
CODE_TEMPLATE_READ = "KX131"
CODE_TEMPLATE_RULE = "KX132"
CODE_HISTORY = "KX133"
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-\d{1,2})?$")
_SUM_UNITS = frozenset({"currency", "count"})
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
Column = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]


class TemplateError(KpixlError):
    """A template or history file that cannot make a contract."""


class TargetRule(BaseModel):
    """How a KPI's target follows from history.

    The history value is the KPI's own measure over the last ``history_months`` months (a ratio
    of sums for ratio KPIs; the monthly mean, times 3 for quarterly contracts, for currency and
    count KPIs; the mean otherwise). The target moves it toward better by ``growth`` (the
    expectation given to ``kpixl init``) when ``growth: true``, plus ``change``: × (1 + g) for a
    ``higher`` KPI, × (1 − g) for a ``lower`` one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: Column | None = None
    ratio: tuple[Column, Column] | None = None
    growth: bool = False
    change: Annotated[float, Field(gt=-1, lt=1)] = 0.0
    round_to: Annotated[float, Field(gt=0)] | None = None


class TemplateKpi(BaseModel):
    """A KPI of a template: contract KPI keys, with ``target_from_history`` for ``target``."""

    # Extra keys are the contract KPI's own; the contract model checks them after init.
    model_config = ConfigDict(frozen=True, extra="allow")

    code: str
    target_from_history: TargetRule
    benchmark: str | None = None


class Template(BaseModel):
    """A KPI benchmark template: not a contract, the skeleton of one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    template: str
    title: str
    note: str
    history_months: Annotated[int, Field(ge=1, le=24)] = 6
    contract: dict[str, Any]
    kpis: Annotated[tuple[TemplateKpi, ...], Field(min_length=1)]


@dataclass(frozen=True, slots=True)
class InitResult:
    """The contract data written by ``kpixl init`` and one line per derived figure."""

    data: dict[str, Any]
    notes: tuple[str, ...]


def template_path(name: str) -> Path:
    """The file of a template given by name (``amazon-us-home``) or by path."""
    candidate = Path(name)
    if candidate.suffix.lower() in (".yaml", ".yml") or candidate.exists():
        return candidate
    return TEMPLATES_DIR / f"{name}.yaml"


def load_template(path: str | Path) -> Template:
    """Load a KPI benchmark template.

    Args:
        path: the template YAML.

    Returns:
        The template.

    Raises:
        TemplateError: unreadable, not YAML, or breaking the template format (KX131/KX132).
    """
    source = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise TemplateError.from_issues([Issue(source, CODE_TEMPLATE_READ, str(e))]) from e
    try:
        return Template.model_validate(data)
    except ValidationError as e:
        raise TemplateError.from_issues(issues_from(e, source, CODE_TEMPLATE_RULE)) from e


def init_from_history(
    template: str | Path,
    history: Actuals,
    growth: float = 0.2,
    *,
    rate_card: RateCard | None = None,
    contract_id: str | None = None,
    client: str = "CLIENT NAME (edit me)",
    provider: str = "PROVIDER NAME (edit me)",
) -> InitResult:
    """A contract (as data) from a template and monthly history, with how each figure was derived.

    Args:
        template: template name or path.
        history: monthly actuals (``period`` = ``YYYY-MM``) with the template's metric columns.
        growth: the growth expectation applied to KPIs whose rule says ``growth: true``.
        rate_card: prices for the fee; default the shipped SAMPLE rate card.
        contract_id: the contract id; default ``TEMPLATE-YYYY-MM`` of the start month.
        client: the client's name.
        provider: the provider's name.

    Returns:
        ``data``: the contract, keys in the order of SPEC §3 (it loads with load_contract);
        ``notes``: one line per derived target and the fee.

    Raises:
        TemplateError: a bad template, too little history, or a missing history column.
        KpixlError: the resulting contract or its quote breaks a rule.
    """
    path = template_path(str(template))
    spec = load_template(path)
    months = last_months(history, spec.history_months)
    last_year, last_month = months[-1][0]
    start = dt.date(last_year + last_month // 12, last_month % 12 + 1, 1)
    period = str(spec.contract.get("period", "month"))
    notes = [
        f"history: {months[0][1]} .. {months[-1][1]} ({len(months)} months of {history.source})"
    ]
    kpis = []
    for k, tkpi in enumerate(spec.kpis):
        target, note = _target(tkpi, k, months, growth, period, history.source)
        kpis.append(_kpi_data(tkpi, target))
        notes.append(note if tkpi.benchmark is None else f"{note}; {tkpi.benchmark}")
    data: dict[str, Any] = {
        "id": contract_id or _ID_UNSAFE.sub("-", f"{spec.template}-{start:%Y-%m}").upper(),
        "client": client,
        "provider": provider,
        **{key: value for key, value in spec.contract.items() if key not in ("quote",)},
        "start": start,
        "fee": {"base": 0, "pool": 0},
        "kpis": kpis,
    }
    data = _order(data)
    if "quote" in spec.contract:
        data["quote"] = spec.contract["quote"]
        data["fee"], fee_note = _priced_fee(data, str(path), rate_card or load_rate_card())
        notes.append(fee_note)
    contract_from_data(data, str(path))
    return InitResult(data, tuple(notes))


def _kpi_data(tkpi: TemplateKpi, target: float) -> dict[str, Any]:
    """The contract KPI: the template's keys, with the target placed right after the weight."""
    data: dict[str, Any] = {"code": tkpi.code}
    for key, value in (tkpi.model_extra or {}).items():
        data[key] = value
        if key == "weight":
            data["target"] = target
    data.setdefault("target", target)
    return data


_ORDER = (
    "id",
    "client",
    "provider",
    "currency",
    "currency_decimals",
    "platform",
    "markets",
    "category",
    "start",
    "period",
    "periods",
    "settlement",
    "clawback",
    "revenue_kpi",
    "fee",
    "kpis",
    "guardrails",
    "min_input",
    "exit",
)


def _order(data: dict[str, Any]) -> dict[str, Any]:
    ranked = {key: i for i, key in enumerate(_ORDER)}
    return dict(sorted(data.items(), key=lambda item: ranked.get(item[0], len(_ORDER))))


def _priced_fee(
    data: dict[str, Any], source: str, rate_card: RateCard
) -> tuple[dict[str, Any], str]:
    contract: Contract = contract_from_data(data, source)
    price = price_contract(rate_card, contract)
    fee: dict[str, Any] = {"base": price.base, "pool": price.pool}
    if price.period_cap is not None:
        fee["period_cap"] = price.period_cap
    note = (
        f"fee: list {price.list:.{contract.decimals}f} per {contract.period} from "
        f"{rate_card.name}; base {price.base:.{contract.decimals}f}, "
        f"pool {price.pool:.{contract.decimals}f}"
    )
    return fee, note


def last_months(history: Actuals, count: int) -> list[tuple[tuple[int, int], str, dict[str, Any]]]:
    """The last ``count`` months of a monthly history, oldest first.

    Args:
        history: actuals whose ``period`` cells read ``YYYY-MM``.
        count: how many months the template needs.

    Returns:
        ((year, month), label, cells) per month.

    Raises:
        TemplateError: a period that is not a month, a repeated month, or too few months.
    """
    by_month: dict[tuple[int, int], tuple[str, dict[str, Any]]] = {}
    issues = []
    for row in history.rows:
        label = str(row.period).strip()
        match = _MONTH.match(label)
        if match is None or not 1 <= int(match.group(2)) <= 12:
            issues.append(
                Issue(
                    f"{history.source}: line {row.line}",
                    CODE_HISTORY,
                    f"period {label!r} is not a month (YYYY-MM)",
                )
            )
            continue
        key = (int(match.group(1)), int(match.group(2)))
        if key in by_month:
            issues.append(
                Issue(
                    f"{history.source}: line {row.line}",
                    CODE_HISTORY,
                    f"month {label} appears twice",
                )
            )
        by_month[key] = (f"{key[0]:04d}-{key[1]:02d}", dict(row.cells))
    if not issues and len(by_month) < count:
        issues.append(
            Issue(
                history.source,
                CODE_HISTORY,
                f"has {len(by_month)} months of history; the template needs {count}",
            )
        )
    if issues:
        raise TemplateError.from_issues(issues)
    keys = sorted(by_month)[-count:]
    return [(key, by_month[key][0], by_month[key][1]) for key in keys]


def _target(
    tkpi: TemplateKpi,
    k: int,
    months: list[tuple[tuple[int, int], str, dict[str, Any]]],
    growth: float,
    period: str,
    source: str,
) -> tuple[float, str]:
    extra = tkpi.model_extra or {}
    rule = tkpi.target_from_history
    unit = str(extra.get("unit", "currency"))
    lower = extra.get("direction", "higher") == "lower"
    ratio = rule.ratio or _pair(extra.get("ratio"))
    metric = rule.metric or str(extra.get("metric") or tkpi.code)
    if ratio is not None:
        num, den = (_column(months, c, source) for c in ratio)
        if math.fsum(den) == 0:
            raise TemplateError.from_issues(
                [Issue(source, CODE_HISTORY, f"column {ratio[1]!r} sums to 0 over the history")]
            )
        value = math.fsum(num) / math.fsum(den)
        how = f"Σ{ratio[0]} / Σ{ratio[1]} = {value:.6g}"
    else:
        values = _column(months, metric, source)
        value = math.fsum(values) / len(values)
        how = f"mean {metric} {value:,.6g}"
        if unit in _SUM_UNITS and period == "quarter":
            value *= 3
            how += " × 3 months"
    g = (growth if rule.growth else 0.0) + rule.change
    target = value * (1 - g if lower else 1 + g)
    target = _round_target(target, unit, rule.round_to)
    sign = "−" if lower else "+"
    note = f"kpis[{k}] {tkpi.code}: target {target:,.6g} = {how} × (1 {sign} {g:g})"
    if target <= 0:
        raise TemplateError.from_issues(
            [
                Issue(
                    f"kpis[{k}].target",
                    CODE_HISTORY,
                    f"the history gives a target of {target:g}; it must be > 0",
                )
            ]
        )
    return target, note


def _pair(value: Any) -> tuple[str, str] | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        return str(value[0]), str(value[1])
    return None


def _column(
    months: list[tuple[tuple[int, int], str, dict[str, Any]]], column: str, source: str
) -> list[float]:
    values = []
    issues = []
    for _, label, cells in months:
        if column not in cells:
            raise TemplateError.from_issues(
                [Issue(source, CODE_HISTORY, f"missing column {column!r}")]
            )
        try:
            values.append(parse_number(cells[column]))
        except ValueError as e:
            issues.append(Issue(f"{source}: period {label}, column {column}", CODE_HISTORY, str(e)))
    if issues:
        raise TemplateError.from_issues(issues)
    return values


def _round_target(target: float, unit: str, round_to: float | None) -> float:
    if round_to is not None:
        # Clean the product's binary noise (0.30000000000000004) off the rounded multiple.
        return excel_round(excel_round(target / round_to, 0) * round_to, 10)
    return excel_round(target, 0 if unit in _SUM_UNITS else 4)


def contract_yaml(result: InitResult, template: str) -> str:
    """The contract file ``kpixl init`` writes: a comment header, then the contract as YAML.

    Args:
        result: the derived contract and its notes.
        template: the template's name, quoted in the header.

    Returns:
        YAML text that loads with ``load_contract``.
    """
    header = [
        f"# Contract drafted by `kpixl init` from template {template}.",
        "# Edit the names, targets and fee before sending; targets and benchmarks in the",
        "# template are SAMPLE numbers, and the fee comes from the rate card named below.",
        *(f"#   {note}" for note in result.notes),
    ]
    body = yaml.safe_dump(result.data, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(header) + "\n" + body
