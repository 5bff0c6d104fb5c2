"""Business outcomes for comparing quotes (SPEC §10): monthly column values, scaled per quote.

An outcome is what the shop does in a month (``gmv`` 200000, ``ad_sales`` 70000, ...). A quote
settles it per period: a quarter of a ``sum`` column is three months of it, a ``mean`` or
``last`` column is the same in a quarter (the column kinds of SPEC §9).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from kpixl.actuals import Cell, parse_number
from kpixl.engine.attainment import attainment
from kpixl.engine.money import guardrail_holds
from kpixl.engine.pacing import column_kinds as pacing_column_kinds
from kpixl.engine.scenarios import actual_for_level, holding_value
from kpixl.errors import ContractError, Issue
from kpixl.model import NON_NEGATIVE_UNITS, Contract, Guardrail, Kpi
from kpixl.ratecard import DEFAULT_LEVELS

ColumnKind = Literal["sum", "mean", "last"]
CODE_OUTCOMES = "KX128"
#: Delivered person-days (SPEC §3 ``min_input``): the provider's input, not a business outcome.
COMMISSIONED_COLUMN = "person_days"
# Enough one-ulp nudges to undo the rounding error of one multiplication or division.
_MAX_NUDGES = 64


@dataclass(frozen=True, slots=True)
class Outcome:
    """One scenario: a name and the monthly value of every column."""

    name: str
    values: tuple[tuple[str, float], ...]


def months_per_period(contract: Contract) -> int:
    """1 for a monthly contract, 3 for a quarterly one."""
    return 3 if contract.period == "quarter" else 1


def column_kinds(contract: Contract) -> dict[str, ColumnKind]:
    """Every column's kind (SPEC §9, as pacing decides it): how a month of it becomes a quarter.

    ``person_days`` is a ``sum`` even where the quote has no ``min_input`` (an outcome may give it).
    """
    kinds: dict[str, ColumnKind] = dict(pacing_column_kinds(contract))
    kinds.setdefault(COMMISSIONED_COLUMN, "sum")
    return kinds


def period_values(
    contract: Contract, monthly: Mapping[str, float], kinds: Mapping[str, ColumnKind]
) -> dict[str, float]:
    """Each needed column's value per period of the contract, from monthly values.

    Args:
        contract: the quote.
        monthly: monthly outcome values.
        kinds: the quote's column kinds.

    Returns:
        ``sum`` columns × 3 for a quarterly quote, others unchanged; ``person_days`` is the
        quote's own requirement when the outcome does not give it.
    """
    months = months_per_period(contract)
    values = {}
    for column in contract.required_columns:
        if column == COMMISSIONED_COLUMN and column not in monthly and contract.min_input:
            values[column] = contract.min_input.person_days
            continue
        value = monthly[column]
        values[column] = value * months if kinds.get(column) == "sum" else value
    return values


def zero_denominator_contract(
    contract: Contract, values: Mapping[str, float]
) -> tuple[Contract, dict[str, tuple[float, ...]]]:
    """The contract with every ratio whose denominator is 0 replaced by a column of its own.

    A ratio with a zero denominator has no value (no ad spend: no ROAS). Its KPI then attains
    0 in every period (actual 0, its baseline, or twice the target for a ``lower`` KPI without
    baseline) and its guardrail counts as breached.

    Args:
        contract: the quote.
        values: the per-period value of every column.

    Returns:
        The contract (unchanged when no denominator is 0) and the replacement columns.
    """
    n = contract.periods
    extra: dict[str, tuple[float, ...]] = {}
    kpis = list(contract.kpis)
    for k, kpi in enumerate(contract.kpis):
        if kpi.ratio is not None and values[kpi.ratio[1]] == 0:
            column = f"_undefined_kpi{k}"
            extra[column] = _attains_zero(kpi, n)
            kpis[k] = kpi.model_copy(
                update={"metric": column, "ratio": None, "aggregate": kpi.rolls_up}
            )
    guardrails = list(contract.guardrails)
    for i, guardrail in enumerate(contract.guardrails):
        if guardrail.ratio is not None and values[guardrail.ratio[1]] == 0:
            column = f"_undefined_guard{i}"
            extra[column] = (_breaching_value(guardrail),) * n
            guardrails[i] = guardrail.model_copy(
                update={"metric": column, "ratio": None, "aggregate": "last"}
            )
    if not extra:
        return contract, extra
    changed = contract.model_copy(update={"kpis": tuple(kpis), "guardrails": tuple(guardrails)})
    return changed, extra


def _attains_zero(kpi: Kpi, periods: int) -> tuple[float, ...]:
    baselines = kpi.baselines(periods)
    if baselines is not None:
        return baselines
    if kpi.direction == "higher":
        return (0.0,) * periods
    return tuple(2 * target for target in kpi.effective_targets(periods))


def _breaching_value(guardrail: Guardrail) -> float:
    step = abs(guardrail.bound) + 1
    return guardrail.bound - step if guardrail.op in (">=", ">") else guardrail.bound + step


def level_outcomes(contract: Contract) -> tuple[list[Outcome], list[str]]:
    """The first quote's own scenario levels (SPEC §6 defaults) as monthly outcomes.

    At level L every KPI's period-1 actual gives attainment L, as in ``kpixl scenarios``; here
    the actuals are real column values: a KPI's own column is its actual, a ratio's free column
    follows from the other one (ROAS = ad_sales / ad_spend with ad_spend fixed by TACoS), each
    guardrail holds at its bound, min person-days are delivered. A ratio whose two columns no
    other figure fixes takes the revenue outcome as numerator (else a denominator of 1).
    ``sum`` columns of a quarterly quote are divided by 3.

    Args:
        contract: the first quote.

    Returns:
        One outcome per level, and notes on any column whose scale had to be chosen.
    """
    kinds = column_kinds(contract)
    months = months_per_period(contract)
    outcomes = []
    notes: list[str] = []
    for level in DEFAULT_LEVELS:
        values, chosen = level_columns(contract, level)
        for note in chosen:
            if note not in notes:
                notes.append(note)
        monthly = {
            column: _per_month(value, months) if kinds.get(column) == "sum" else value
            for column, value in values.items()
        }
        outcomes.append(Outcome(f"{level:.0%}", tuple(monthly.items())))
    return outcomes, notes


def _per_month(value: float, months: int) -> float:
    """value / months, nudged one ulp when that makes ``× months`` give the value back."""
    if months == 1:
        return value
    month = value / months
    for candidate in (month, math.nextafter(month, math.inf), math.nextafter(month, -math.inf)):
        if candidate * months == value:
            return candidate
    return month


def level_columns(contract: Contract, level: float) -> tuple[dict[str, float], list[str]]:
    """Period 1's column values that put every KPI at attainment ``level``.

    Args:
        contract: the quote.
        level: the uniform attainment level.

    Returns:
        Column values in the order the contract reads them, and notes on chosen scales.
    """
    periods = contract.periods
    values: dict[str, float] = {}
    notes: list[str] = []
    wanted: list[tuple[Kpi, float, float | None]] = []
    for kpi in contract.kpis:
        baselines = kpi.baselines(periods)
        target = kpi.effective_targets(periods)[0]
        baseline = None if baselines is None else baselines[0]
        if kpi.ratio is None:
            values.setdefault(kpi.source_column, actual_for_level(kpi, target, baseline, level))
        else:
            wanted.append((kpi, target, baseline))
    anchor = _anchor(contract, values)
    pending = list(wanted)
    while pending:
        progressed = [item for item in pending if _solve_ratio(values, level, *item)]
        pending = [item for item in pending if item not in progressed]
        if not progressed and pending:
            kpi, target, baseline = pending.pop(0)
            num, den = kpi.ratio or (kpi.source_column, kpi.source_column)
            notes.append(_anchor_note(num, den, anchor))
            if anchor is not None:
                values[num] = anchor[1]
            else:
                values[den] = 1.0
            _solve_ratio(values, level, kpi, target, baseline)
    for guardrail in contract.guardrails:
        _hold(values, guardrail, anchor, notes)
    if contract.min_input is not None:
        values.setdefault(COMMISSIONED_COLUMN, contract.min_input.person_days)
    ordered = {column: values[column] for column in contract.required_columns}
    return ordered, notes


def _anchor(contract: Contract, values: Mapping[str, float]) -> tuple[str, float] | None:
    if contract.revenue_kpi is None:
        return None
    kpi = contract.kpi(contract.revenue_kpi)
    if kpi.ratio is not None or not values.get(kpi.source_column):
        return None
    return kpi.source_column, values[kpi.source_column]


def _anchor_note(num: str, den: str, anchor: tuple[str, float] | None) -> str:
    del anchor  # one note for every level, whether or not revenue is 0 there
    return (
        f"no figure of the first quote fixes the scale of {num} / {den}: {num} is set to the "
        f"revenue outcome ({den} = 1 where there is none); give --outcomes CSV with real figures"
    )


def _solve_ratio(
    values: dict[str, float], level: float, kpi: Kpi, target: float, baseline: float | None
) -> bool:
    """Fill the free column of a ratio KPI so it attains ``level``; False when neither is known."""
    if kpi.ratio is None:
        return True
    num, den = kpi.ratio
    if num in values and den in values:
        return True
    ratio = actual_for_level(kpi, target, baseline, level)
    better = math.inf if kpi.direction == "higher" else -math.inf
    floor = 0.0 if kpi.unit in NON_NEGATIVE_UNITS else -math.inf

    def reached(n: float, d: float) -> bool:
        return d == 0 or float(attainment(n / d, target, kpi.direction, baseline)) >= level

    if den in values:
        d = values[den]
        n = ratio * d
        for _ in range(_MAX_NUDGES):
            if reached(n, d):
                break
            n = math.nextafter(n, better if d > 0 else -better)
        values[num] = max(n, floor)
        return True
    if num in values and ratio != 0:
        n = values[num]
        d = n / ratio
        for _ in range(_MAX_NUDGES):
            if reached(n, d):
                break
            d = math.nextafter(d, -better if n > 0 else better)
        values[den] = d
        return True
    return False


def _hold(
    values: dict[str, float],
    guardrail: Guardrail,
    anchor: tuple[str, float] | None,
    notes: list[str],
) -> None:
    """Fill a guardrail's free column(s) so it holds at its bound."""
    if guardrail.ratio is None:
        values.setdefault(guardrail.source_column, holding_value(guardrail))
        return
    num, den = guardrail.ratio
    if num in values and den in values:
        return
    if num in values and guardrail.bound != 0:
        values[den] = values[num] / guardrail.bound
        return
    if den not in values:
        notes.append(_anchor_note(num, den, anchor))
        values[den] = 1.0 if anchor is None else anchor[1]
    d = values[den]
    n = guardrail.bound * d
    toward = math.inf if guardrail.op in (">=", ">") else -math.inf
    for _ in range(_MAX_NUDGES):
        if d == 0 or float(guardrail_holds(n / d, guardrail.op, guardrail.bound)):
            break
        n = math.nextafter(n, toward if d > 0 else -toward)
    values[num] = n


def outcomes_from_rows(
    header: Sequence[Cell], rows: Sequence[Sequence[Cell]], source: str
) -> list[Outcome]:
    """Outcomes from CSV rows: a ``scenario`` column, then metric columns of monthly values.

    Args:
        header: the header row.
        rows: the data rows (blank rows are skipped); row i is line i + 2 of the file.
        source: the file named in messages.

    Returns:
        One outcome per row, in file order.

    Raises:
        ContractError: no ``scenario`` column or no metric column, repeated columns or
            scenario names, empty or non-numeric cells (KX128, naming line and column).
    """
    names = ["" if cell is None else str(cell).strip() for cell in header]
    while names and not names[-1]:
        names.pop()
    issues = []
    if "scenario" not in names:
        issues.append(Issue(source, CODE_OUTCOMES, "the header has no 'scenario' column"))
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        issues.append(Issue(source, CODE_OUTCOMES, f"columns appear twice: {', '.join(repeated)}"))
    metrics = [name for name in names if name != "scenario"]
    if "" in metrics:
        issues.append(Issue(source, CODE_OUTCOMES, "a column has no name"))
    if not metrics:
        issues.append(Issue(source, CODE_OUTCOMES, "no metric columns after 'scenario'"))
    if issues:
        raise ContractError.from_issues(issues)
    outcomes: list[Outcome] = []
    seen: dict[str, int] = {}
    for offset, row in enumerate(rows):
        cells = dict(zip(names, list(row) + [None] * (len(names) - len(row)), strict=False))
        if all(cell is None or not str(cell).strip() for cell in cells.values()):
            continue
        found, problems = _outcome_row(cells, metrics, offset + 2, source, seen)
        outcomes.append(found)
        issues.extend(problems)
    if not outcomes and not issues:
        issues.append(Issue(source, CODE_OUTCOMES, "no scenario rows"))
    if issues:
        raise ContractError.from_issues(issues)
    return outcomes


def _outcome_row(
    cells: Mapping[str, Cell], metrics: Sequence[str], line: int, source: str, seen: dict[str, int]
) -> tuple[Outcome, list[Issue]]:
    issues = []
    name = str(cells.get("scenario") or "").strip()
    where = f"{source}: line {line}"
    if not name:
        issues.append(Issue(f"{where}, column scenario", CODE_OUTCOMES, "is empty"))
    elif name in seen:
        message = f"scenario {name!r} appears twice (also line {seen[name]})"
        issues.append(Issue(where, CODE_OUTCOMES, message))
    seen.setdefault(name, line)
    values = []
    for column in metrics:
        try:
            values.append((column, parse_number(cells[column])))
        except ValueError as e:
            issues.append(Issue(f"{where}, column {column}", CODE_OUTCOMES, str(e)))
    return Outcome(name, tuple(values)), issues
