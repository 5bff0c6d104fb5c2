"""One table says what each template cell holds: builder, validator and reader share it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpixl.actuals import Actuals
from kpixl.model import Contract
from kpixl.workbook.build import build_bytes
from kpixl.workbook.read import read_workbook
from kpixl.workbook.template import template_schema, term_locations
from kpixl.workbook.terms import path_get, term_values
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
