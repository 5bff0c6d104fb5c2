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
from kpixl.seasonal import Seasonality, months_in_words, period_months

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
    #: Where each period's targets came from (seasonal targets only).
    period_notes: tuple[str, ...] = ()


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
    seasonality: Seasonality | None = None,
) -> InitResult:
    """A contract (as data) from a template and monthly history, with how each figure was derived.

    With at least 12 months of history the targets follow the season (SPEC §12): one target
    per period from the same calendar month(s) of the last 12 months. With fewer, the flat
    target, multiplied for ``sum`` KPIs by the ``seasonality`` profile's index when one is given.

    Args:
        template: template name or path.
        history: monthly actuals (``period`` = ``YYYY-MM``) with the template's metric columns.
        growth: the growth expectation applied to KPIs whose rule says ``growth: true``.
        rate_card: prices for the fee; default the shipped SAMPLE rate card.
        contract_id: the contract id; default ``TEMPLATE-YYYY-MM`` of the start month.
        client: the client's name.
        provider: the provider's name.
        seasonality: a monthly profile for histories shorter than 12 months.

    Returns:
        ``data``: the contract, keys in the order of SPEC §3 (it loads with load_contract);
        ``notes``: one line per derived target and the fee; ``period_notes``: where each
        period's targets came from, when they follow the season.

    Raises:
        TemplateError: a bad template, too little history, or a missing history column.
        KpixlError: the resulting contract or its quote breaks a rule.
    """
    path = template_path(str(template))
    spec = load_template(path)
    months = last_months(history, spec.history_months)
    everything = last_months(history, 0)
    last_year, last_month = months[-1][0]
    start = dt.date(last_year + last_month // 12, last_month % 12 + 1, 1)
    period = str(spec.contract.get("period", "month"))
    notes = [
        f"history: {months[0][1]} .. {months[-1][1]} ({len(months)} months of {history.source})"
    ]
    kpis = []
    flat = []
    for k, tkpi in enumerate(spec.kpis):
        target, note = _target(tkpi, k, months, growth, period, history.source)
        flat.append(target)
        notes.append(note if tkpi.benchmark is None else f"{note}; {tkpi.benchmark}")
    periods = period_months(start, period, int(spec.contract.get("periods", 1)))
    season = _last_year(everything, history.source) if len(everything) >= SEASON_MONTHS else None
    if season is not None:
        targets, period_notes = _season_targets(spec, season, periods, growth, history.source)
        notes = [
            f"history: {season[0][1]} .. {season[-1][1]} (the last 12 months of "
            f"{history.source}) set one target per period, following the season"
        ] + [
            f"kpis[{k}] {tkpi.code}: the same calendar month(s) last year, moved by the growth"
            + ("" if tkpi.benchmark is None else f"; {tkpi.benchmark}")
            for k, tkpi in enumerate(spec.kpis)
        ]
        if seasonality is not None:
            notes.append(f"seasonality profile {seasonality.source} not used: 12 months of history")
    elif seasonality is not None:
        targets, period_notes = _profile_targets(spec, months, periods, growth, seasonality)
    else:
        targets, period_notes = [[t] for t in flat], []
    for tkpi, per_period in zip(spec.kpis, targets, strict=True):
        kpis.append(_kpi_data(tkpi, per_period if period_notes else per_period[0]))
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
    return InitResult(data, tuple(notes), tuple(period_notes))


SEASON_MONTHS = 12
Months = list[tuple[tuple[int, int], str, dict[str, Any]]]


def _last_year(everything: Months, source: str) -> Months:
    """The 12 calendar months ending with the last month of history, every one of them present.

    Raises:
        TemplateError: a month of that year is missing (KX133), so its season is unknown.
    """
    (year, month), _, _ = everything[-1]
    wanted = [
        ((year * 12 + month - 1 - back) // 12, (month - 1 - back) % 12 + 1)
        for back in range(11, -1, -1)
    ]
    present = {key: (key, label, cells) for key, label, cells in everything}
    missing = [f"{y:04d}-{m:02d}" for y, m in wanted if (y, m) not in present]
    if missing:
        message = (
            f"targets follow the season from the last 12 months, but {', '.join(missing)} "
            "is missing; add the month(s) to the history"
        )
        raise TemplateError.from_issues([Issue(source, CODE_HISTORY, message)])
    return [present[key] for key in wanted]


def _season_targets(
    spec: Template,
    season: Months,
    periods: list[tuple[str, tuple[int, ...]]],
    growth: float,
    source: str,
) -> tuple[list[list[float]], list[str]]:
    """Per KPI, one target per period from the same calendar month(s) of the last 12 months."""
    by_month = {key[1]: (key, label, cells) for key, label, cells in season}
    targets: list[list[float]] = [[] for _ in spec.kpis]
    notes = []
    for p, (label, calendar) in enumerate(periods, start=1):
        same = [by_month[m] for m in calendar]
        parts = []
        for k, tkpi in enumerate(spec.kpis):
            value, how = _period_value(tkpi, same, source)
            moved, g, sign = move(tkpi, value, growth)
            target = _checked(tkpi, k, round_target(tkpi, moved), f"[{p - 1}] ({label})")
            targets[k].append(target)
            parts.append(f"{tkpi.code} {target:,.6g} = {how} × (1 {sign} {g:g})")
        sources = ", ".join(entry[1] for entry in same)
        notes.append(f"{label} from {sources}: " + "; ".join(parts))
    return targets, notes


def _period_value(tkpi: TemplateKpi, same: Months, source: str) -> tuple[float, str]:
    """A KPI's value over a period's months of history: total, ratio of sums, or mean."""
    kind = kpi_kind(tkpi)
    if kind == "ratio":
        return history_value(tkpi, same, source)
    metric = _metric(tkpi)
    values = _column(same, metric, source)
    if kind == "sum":
        total = math.fsum(values)
        return total, f"{'Σ' if len(values) > 1 else ''}{metric} {total:,.6g}"
    if len(values) == 1:
        return values[0], f"{metric} {values[0]:,.6g}"
    return history_value(tkpi, same, source)


def _metric(tkpi: TemplateKpi) -> str:
    extra = tkpi.model_extra or {}
    return tkpi.target_from_history.metric or str(extra.get("metric") or tkpi.code)


def _profile_targets(
    spec: Template,
    months: Months,
    periods: list[tuple[str, tuple[int, ...]]],
    growth: float,
    seasonality: Seasonality,
) -> tuple[list[list[float]], list[str]]:
    """Per KPI, one target per period: flat, times the profile's index for ``sum`` KPIs."""
    period = str(spec.contract.get("period", "month"))
    targets: list[list[float]] = [[] for _ in spec.kpis]
    notes = []
    for p, (label, calendar) in enumerate(periods, start=1):
        index = seasonality.index_of(calendar)
        parts = []
        for k, tkpi in enumerate(spec.kpis):
            value, _ = history_value(tkpi, months, seasonality.source)
            sums = kpi_kind(tkpi) == "sum"
            if sums and period == "quarter":
                value *= 3
            moved, _, _ = move(tkpi, value, growth)
            if sums:
                target = round_target(tkpi, moved * index)
                parts.append(f"{tkpi.code} {target:,.6g} = flat {moved:,.6g} × index {index:.4g}")
            else:
                target = round_target(tkpi, moved)
                parts.append(f"{tkpi.code} {target:,.6g} flat")
            targets[k].append(_checked(tkpi, k, target, f"[{p - 1}] ({label})"))
        where = months_in_words(calendar)
        notes.append(
            f"{label} ({where}, index {index:.4g} from {seasonality.source}): " + "; ".join(parts)
        )
    return targets, notes


def _kpi_data(tkpi: TemplateKpi, target: float | list[float]) -> dict[str, Any]:
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
        count: how many months the template needs; 0: all of them (at least one).

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
    if not issues and len(by_month) < max(count, 1):
        issues.append(
            Issue(
                history.source,
                CODE_HISTORY,
                f"has {len(by_month)} months of history; the template needs {count}",
            )
        )
    if issues:
        raise TemplateError.from_issues(issues)
    keys = sorted(by_month)[-count:] if count > 0 else sorted(by_month)
    return [(key, by_month[key][0], by_month[key][1]) for key in keys]


def _target(
    tkpi: TemplateKpi,
    k: int,
    months: list[tuple[tuple[int, int], str, dict[str, Any]]],
    growth: float,
    period: str,
    source: str,
) -> tuple[float, str]:
    value, how = history_value(tkpi, months, source)
    if kpi_kind(tkpi) == "sum" and period == "quarter":
        value *= 3
        how += " × 3 months"
    moved, g, sign = move(tkpi, value, growth)
    target = _checked(tkpi, k, round_target(tkpi, moved), "")
    note = f"kpis[{k}] {tkpi.code}: target {target:,.6g} = {how} × (1 {sign} {g:g})"
    return target, note


def kpi_kind(tkpi: TemplateKpi) -> str:
    """``ratio``, ``sum`` (currency and count KPIs that add up over months) or ``mean``."""
    extra = tkpi.model_extra or {}
    if tkpi.target_from_history.ratio or _pair(extra.get("ratio")):
        return "ratio"
    if str(extra.get("unit", "currency")) in _SUM_UNITS and extra.get("aggregate") in (
        None,
        "sum",
    ):
        return "sum"
    return "mean"


def history_value(
    tkpi: TemplateKpi,
    months: list[tuple[tuple[int, int], str, dict[str, Any]]],
    source: str,
) -> tuple[float, str]:
    """A KPI's measure over some months of history, and how it was computed.

    A ratio KPI: Σ numerator / Σ denominator; any other KPI: the mean month.

    Raises:
        TemplateError: a missing or non-numeric column, or a denominator summing to 0.
    """
    extra = tkpi.model_extra or {}
    rule = tkpi.target_from_history
    ratio = rule.ratio or _pair(extra.get("ratio"))
    if ratio is not None:
        num, den = (_column(months, c, source) for c in ratio)
        if math.fsum(den) == 0:
            labels = ", ".join(label for _, label, _ in months)
            message = f"column {ratio[1]!r} sums to 0 over {labels}"
            raise TemplateError.from_issues([Issue(source, CODE_HISTORY, message)])
        value = math.fsum(num) / math.fsum(den)
        return value, f"Σ{ratio[0]} / Σ{ratio[1]} = {value:.6g}"
    metric = _metric(tkpi)
    values = _column(months, metric, source)
    value = math.fsum(values) / len(values)
    return value, f"mean {metric} {value:,.6g}"


def move(tkpi: TemplateKpi, value: float, growth: float) -> tuple[float, float, str]:
    """The value moved toward better by g: × (1 + g) higher, × (1 − g) lower; g and its sign."""
    rule = tkpi.target_from_history
    lower = (tkpi.model_extra or {}).get("direction", "higher") == "lower"
    g = (growth if rule.growth else 0.0) + rule.change
    return value * (1 - g if lower else 1 + g), g, "−" if lower else "+"


def round_target(tkpi: TemplateKpi, value: float) -> float:
    """A target rounded by the rule's ``round_to`` (else whole money or counts, 4 dp)."""
    unit = str((tkpi.model_extra or {}).get("unit", "currency"))
    return _round_target(value, unit, tkpi.target_from_history.round_to)


def _checked(tkpi: TemplateKpi, k: int, target: float, where: str) -> float:
    if target <= 0:
        raise TemplateError.from_issues(
            [
                Issue(
                    f"kpis[{k}].target{where}",
                    CODE_HISTORY,
                    f"the history gives {tkpi.code} a target of {target:g}; it must be > 0",
                )
            ]
        )
    return target


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
    if result.period_notes:
        header.append("# Targets per period, and where each came from:")
        header += [f"#   {note}" for note in result.period_notes]
    body = yaml.safe_dump(result.data, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(header) + "\n" + body
