"""One table says what each template cell holds: builder, validator and reader share it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings

from kpixl.actuals import Actuals
from kpixl.model import Contract
from kpixl.workbook.build import build_bytes
from kpixl.workbook.layout import GUARDRAIL_FIELDS, KPI_FIELDS, MONEY, QUOTE_FIELDS
from kpixl.workbook.read import read_book, read_workbook
from kpixl.workbook.template import money_format, template_schema, term_cells, term_locations
from kpixl.workbook.terms import path_get, path_set, term_values
from tests.strategies import build, contract_data
from tests.workbook.contracts import case, priced_case


def _contracts(spec_contract: Contract) -> list[Contract]:
    return [spec_contract, *(case(i).contract for i in range(12)), priced_case(1).contract]


def test_every_cell_has_a_role_and_every_value_cell_a_field(spec_contract: Contract) -> None:
    for contract in _contracts(spec_contract):
        for spec in template_schema(contract, adjustment_rows=2).cells:
            assert spec.role is not None, spec
            assert (spec.field is None) == (spec.role == "label"), spec
            assert (spec.role == "formula") == (spec.kind == "formula"), spec


def test_term_locations_are_the_schema_term_cells(spec_contract: Contract) -> None:
    for contract in _contracts(spec_contract):
        tiers = [0 if kpi.curve is None else len(kpi.curve.tiers) for kpi in contract.kpis]
        where = term_locations(
            len(contract.kpis), len(contract.guardrails), contract.periods, tiers
        )
        terms = {
            str(spec.field): f"{spec.sheet}!{spec.ref}"
            for spec in template_schema(contract).cells
            if spec.role == "term"
        }
        assert {path: where[path] for path in terms} == terms


def test_term_cells_are_the_schema_term_cells(spec_contract: Contract) -> None:
    """The reader walks term_cells; the template's term cells are made by the same constructors."""
    for contract in _contracts(spec_contract):
        tiers = [0 if kpi.curve is None else len(kpi.curve.tiers) for kpi in contract.kpis]
        money = money_format(contract.decimals)
        shape = (len(contract.kpis), len(contract.guardrails), contract.periods, tiers, money)
        terms = tuple(spec for spec in template_schema(contract).cells if spec.role == "term")
        assert term_cells(*shape) == terms


def test_path_set_inverts_path_get() -> None:
    tree: dict[str, Any] = {}
    path_set(tree, "kpis[1].ratio[1]", "b")
    path_set(tree, "kpis[1].ratio[0]", "a")
    path_set(tree, "kpis[0].curve.tiers[0].from", 0.5)
    path_set(tree, "fee.base", 100)
    assert tree == {
        "kpis": [{"curve": {"tiers": [{"from": 0.5}]}}, {"ratio": ["a", "b"]}],
        "fee": {"base": 100},
    }


def _read_back(contract: Contract) -> Contract:
    book = openpyxl.load_workbook(io.BytesIO(build_bytes(contract, None, None).data))
    read, _actuals, _adjustments = read_book(book, "c.xlsx")
    return read


def _stored(value: Any) -> Any:
    """A contract's data as an .xlsx file stores it: numbers to 16 significant digits."""
    if isinstance(value, dict):
        return {key: _stored(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [_stored(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.16G}")
    return value


def _as_read(contract: Contract) -> Any:
    """The contract as a workbook states it: the currency's decimals explicitly."""
    return _stored(
        contract.model_copy(update={"currency_decimals": contract.decimals}).model_dump()
    )


@settings(max_examples=25, deadline=None)
@given(contract_data())
def test_read_of_build_is_the_contract(data: dict[str, Any]) -> None:
    """Build and read cannot drift: a generated contract reads back as itself (a weight of
    1/6 as the 16 digits the file holds)."""
    contract = build(data)
    assert _stored(_read_back(contract).model_dump()) == _as_read(contract)


@pytest.mark.parametrize("i", range(0, 50, 3))
def test_generated_cases_read_back(i: int) -> None:
    """Ramps, baselines, ratios, guardrails, series targets: the parity cases read back."""
    contract = case(i).contract
    assert _stored(_read_back(contract).model_dump()) == _as_read(contract)


def test_every_term_field_is_a_contract_path(spec_contract: Contract) -> None:
    """A term's field names the contract attribute it holds (the workbook's forms aside)."""
    for contract in _contracts(spec_contract):
        values = term_values(contract)
        for spec in template_schema(contract).cells:
            if spec.role != "term" or spec.field in ("markets", "currency_decimals"):
                continue
            field = str(spec.field)
            if any(f".{series}[" in field for series in ("target", "ramp", "baseline")):
                continue  # a scalar target (or baseline) fills every period's cell
            assert values[field] == path_get(contract, field), field


@pytest.mark.parametrize("i", [0, 1, 2, 5])
def test_what_the_builder_writes_the_reader_reads(i: int, tmp_path: Path) -> None:
    c = priced_case(i) if i == 5 else case(i)
    out = tmp_path / "c.xlsx"
    out.write_bytes(build_bytes(c.contract, c.actuals, c.adjustments).data)
    contract, actuals, _adjustments = read_workbook(out)
    assert contract == c.contract.model_copy(update={"currency_decimals": c.contract.decimals})
    assert isinstance(actuals, Actuals)


def test_term_cells_take_type_format_list_and_path_from_the_column_records(
    spec_contract: Contract,
) -> None:
    """Each input table column is declared once (a Column): the cells say what it says."""
    money = money_format(spec_contract.decimals)
    tables = {
        "quote": ({c.key: c for c in QUOTE_FIELDS}, ""),
        "kpis[0]": ({c.key: c for c in KPI_FIELDS}, "kpis[0]."),
        "guardrails[0]": ({c.key: c for c in GUARDRAIL_FIELDS}, "guardrails[0]."),
    }
    seen = set()
    for spec in template_schema(spec_contract).cells:
        table, _, key = spec.key.rpartition(".")
        if spec.role != "term" or key not in tables.get(table, ({}, ""))[0]:
            continue  # another KPI or guardrail, or a target series cell
        columns, prefix = tables[table]
        column = columns[key]
        fmt = money if column.number_format == MONEY else column.number_format
        assert (spec.value_type, spec.number_format, spec.validation, spec.field) == (
            column.value_type,
            fmt,
            column.choices,
            prefix + column.path,
        ), spec
        seen.add((table, key))
    assert len(seen) == sum(len(columns) for columns, _prefix in tables.values())
