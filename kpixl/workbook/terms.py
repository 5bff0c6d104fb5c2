"""The value of every input and marker cell, from the one table of what each cell holds.

A template cell spec names its ``field`` (the contract path of a term: ``fee.base``,
``kpis[2].weight``, ``kpis[0].target[3]``; a what-if, actuals or marker entry). The builder's
cell values and the validator's expected terms are both :func:`input_values`, which looks
every cell's field up in :func:`field_values`; the reader writes the same fields back into a
contract (``kpixl.workbook.read``), so the two directions share one table.
"""

from __future__ import annotations

import re
from typing import Any

from kpixl.engine.curve_words import curve_points
from kpixl.model import Contract
from kpixl.ratecard import ROLES, QuoteInputs, RateCard
from kpixl.workbook.cached import ActualsGrid, default_scenario_inputs
from kpixl.workbook.layout import (
    ADJUSTMENT_HEADER,
    CATEGORY_CLASSES,
    GUARDRAIL_PATHS,
    INTEGRATIONS,
    KPI_PATHS,
    QUOTE_PATHS,
    RATECARD_SETTINGS,
    SPARE_ADJUSTMENT_ROWS,
    CellSpec,
    Layout,
    Role,
    TemplateSchema,
    pricing_inputs,
    ratecard_names,
    sample_rate_card,
)
from kpixl.workbook.pacing_sheet import blank_inputs, pacing_fixed_values, pacing_input_values
from kpixl.workbook.per_schema import per_cells
from kpixl.workbook.statement import default_period
from kpixl.workbook.template import template_schema

#: The roles of the cells whose value the builder writes from :func:`input_values`.
VALUE_ROLES: tuple[Role, ...] = ("term", "what_if", "actuals", "marker")
_TOKEN = re.compile(r"([A-Za-z_][A-Za-z_0-9]*)|\[(\d+)\]")
#: Model attributes whose YAML name is a Python keyword.
_ATTRIBUTES = {"from": "from_"}


def path_get(obj: Any, path: str) -> Any:
    """The value at a dotted path (``fee.base``, ``ratio[0]``, ``curve.tiers[1].from``).

    Missing parts (an unset section, an index past the end) give None.
    """
    for name, index in _TOKEN.findall(path):
        if obj is None:
            return None
        if name:
            obj = getattr(obj, _ATTRIBUTES.get(name, name), None)
        else:
            i = int(index)
            obj = obj[i] if i < len(obj) else None
    return obj


def path_set(tree: dict[str, Any], path: str, value: Any) -> None:
    """Put a value at a dotted path of nested mappings and lists, the inverse of :func:`path_get`.

    Missing parts are made (a list grows with None up to the index): ``kpis[1].ratio[0]`` on
    ``{}`` gives ``{"kpis": [None, {"ratio": [value]}]}``.
    """
    tokens = _TOKEN.findall(path)
    parent: Any = tree
    for i, (name, index) in enumerate(tokens):
        key: Any = name or int(index)
        if isinstance(parent, list):
            parent.extend([None] * (key + 1 - len(parent)))
        if i == len(tokens) - 1:
            parent[key] = value
            return
        child = parent[key] if isinstance(parent, list) else parent.get(key)
        if child is None:
            child = {} if tokens[i + 1][0] else []
            parent[key] = child
        parent = child


def term_values(contract: Contract) -> dict[str, Any]:
    """Every contract term the workbook shows, by contract path, in the workbook's form."""
    n = contract.periods
    out: dict[str, Any] = {path: path_get(contract, path) for path in QUOTE_PATHS.values()}
    out["markets"] = ", ".join(contract.markets)
    out["currency_decimals"] = contract.decimals
    for k, kpi in enumerate(contract.kpis):
        for path in KPI_PATHS.values():
            out[f"kpis[{k}].{path}"] = path_get(kpi, path)
        targets = kpi.target if isinstance(kpi.target, tuple) else (kpi.target,) * n
        baselines = kpi.baselines(n) or (None,) * n
        ramp = kpi.ramp or ()
        for i in range(n):
            out[f"kpis[{k}].target[{i}]"] = targets[i]
            out[f"kpis[{k}].ramp[{i}]"] = ramp[i] if i < len(ramp) else None
            out[f"kpis[{k}].baseline[{i}]"] = baselines[i]
        if kpi.curve is not None:
            for i, tier in enumerate(kpi.curve.tiers):
                out[f"kpis[{k}].curve.tiers[{i}].from"] = tier.from_
                out[f"kpis[{k}].curve.tiers[{i}].rate"] = tier.rate
    for j, guardrail in enumerate(contract.guardrails):
        for path in GUARDRAIL_PATHS.values():
            out[f"guardrails[{j}].{path}"] = path_get(guardrail, path)
    return out


def field_values(layout: Layout, grid: ActualsGrid, card: RateCard | None = None) -> dict[str, Any]:
    """The value of every input and marker field (default rate card: the sample card)."""
    card = sample_rate_card() if card is None else card
    contract = layout.contract
    out = term_values(contract)
    scenario = default_scenario_inputs(contract, card)
    out["scenario.cps_rate"] = scenario.cps_rate
    for i, level in enumerate(scenario.levels):
        out[f"scenario[{i}].level"] = level
    out.update(curve_values(contract))
    out.update(_ratecard_inputs(card))
    if scenario.pricing is not None:
        out.update(_pricing_inputs(scenario.pricing[1]))
    out["statement.period"] = default_period(layout, {p for p, _m in grid.values})
    for p, label in enumerate(contract.period_labels, start=1):
        out[f"periods[{p}].label"] = label
        out[f"periods[{p}].index"] = p
        for m in layout.metrics:
            out[f"actuals[{p}].{m}"] = grid.values.get((p, m))
    out["actuals.header.period"] = "period"
    for m in layout.metrics:
        out[f"actuals.header.{m}"] = m
    for key in ADJUSTMENT_HEADER:
        out[f"adjustments.header.{key}"] = key
    for i, adjustment in enumerate(grid.adjustments):
        for key, value in zip(ADJUSTMENT_HEADER, adjustment, strict=True):
            out[f"adjustments[{i}].{key}"] = value
    out.update(pacing_fixed_values(layout))
    out.update(pacing_input_values(blank_inputs(layout), layout))
    return out


def input_values(
    layout: Layout,
    grid: ActualsGrid,
    card: RateCard | None = None,
    schema: TemplateSchema | None = None,
) -> dict[str, Any]:
    """The value of every input and marker cell, keyed by schema key (default: the sample card).

    Args:
        layout: the contract's layout.
        grid: the actuals and adjustments to fill in.
        card: the rate card of the RateCard sheet and the pricing inputs.
        schema: the template schema (default: the contract's, labels in both languages).
    """
    if schema is None:
        rows = layout.adjustment_rows - SPARE_ADJUSTMENT_ROWS
        schema = template_schema(layout.contract, "both", rows)
    values = field_values(layout, grid, card)
    return {key: values.get(field) for key, field in value_fields(schema.cells)}


def value_fields(cells: tuple[CellSpec, ...]) -> tuple[tuple[str, str], ...]:
    """(key, field) of the value cells among a schema's cells: :func:`input_values` is
    ``{key: field_values(...).get(field)}`` over them. Made once per schema cells (a shape)."""
    return per_cells(
        cells,
        "value fields",
        lambda: tuple(
            (spec.key, spec.field)
            for spec in cells
            if spec.role in VALUE_ROLES and spec.field is not None
        ),
    )


def curve_values(contract: Contract) -> dict[str, float]:
    """The payout curve points the Quote's curve charts draw, by field."""
    out: dict[str, float] = {}
    for k, kpi in enumerate(contract.kpis):
        for i, (x, f) in enumerate(curve_points(kpi)):
            out[f"curve[{k}].x[{i}]"], out[f"curve[{k}].f[{i}]"] = x, f
    return out


def _ratecard_inputs(card: RateCard) -> dict[str, Any]:
    """The RateCard sheet's names and values, by field."""
    entries: dict[str, list[tuple[Any, float]]] = {
        "roles": [(role, getattr(card.roles, role)) for role in ROLES],
        "platforms": [(name, card.platforms[name]) for name in ratecard_names("platforms")],
        "categories": [(c, getattr(card.categories, c)) for c in CATEGORY_CLASSES],
        "integrations": [(i, getattr(card.integrations, i)) for i in INTEGRATIONS],
        "add_ons": [(name, card.add_ons[name]) for name in ratecard_names("add_ons")],
        "term_discounts": [(t.min_months, t.discount) for t in card.term_discounts],
        "settings": [(key, getattr(card, key)) for key in RATECARD_SETTINGS],
    }
    out: dict[str, Any] = {"ratecard.name": card.name}
    for table, rows in entries.items():
        for i, (name, value) in enumerate(rows):
            out[f"ratecard.{table}[{i}].name"] = name
            out[f"ratecard.{table}[{i}].value"] = value
    return out


def _pricing_inputs(quote: QuoteInputs) -> dict[str, Any]:
    """The Quote pricing inputs of a quote (platform and markets filled in), by field."""
    out: dict[str, Any] = {}
    for key in pricing_inputs():  # the layout's list: one place names the pricing inputs
        kind, _, name = key.partition(".")
        if kind == "team":
            out[f"pricing.{key}"] = getattr(quote.team, name)
        elif kind == "add_on":
            out[f"pricing.{key}"] = 1 if name in quote.add_ons else 0
        else:
            out[f"pricing.{key}"] = getattr(quote, key)
    return out
