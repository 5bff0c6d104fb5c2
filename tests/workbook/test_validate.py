"""The validator: clean on fresh workbooks, each kind of tampering found at its cell."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from kpixl.actuals import Actuals
from kpixl.engine.pricing import price_contract, price_quote, quote_for
from kpixl.errors import Issue, WorkbookError
from kpixl.model import Contract
from kpixl.ratecard import RateCard, load_rate_card
from kpixl.workbook.build import build_workbook
from kpixl.workbook.layout import PRICING, QUOTE, RATECARD, SETTLEMENT, Layout, ratecard_names
from kpixl.workbook.patch import patch_cached_values
from kpixl.workbook.recalc import recalc
from kpixl.workbook.template import template_schema
from kpixl.workbook.validate import validate_workbook
from tests.engine.test_pricing import INPUTS

MODES = ("native", "udf")


def built(tmp_path: Path, contract: Contract, actuals: Actuals, mode: str) -> Path:
    path = tmp_path / f"quote-{mode}.xlsx"
    build_workbook(contract, actuals, None, mode=mode, out=path)  # type: ignore[arg-type]
    return path


def errors(issues: list[Issue]) -> list[Issue]:
    return [issue for issue in issues if issue.severity == "error"]


def formula_cell(contract: Contract, key: str) -> str:
    (spec,) = [c for c in template_schema(contract).cells if c.key == key]
    return spec.ref


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("settlement", ["period", "cumulative"])
def test_a_fresh_workbook_validates_clean(
    tmp_path: Path, spec_contract: Contract, spec_actuals: Actuals, mode: str, settlement: str
) -> None:
    contract = spec_contract.model_copy(update={"settlement": settlement})
    assert validate_workbook(built(tmp_path, contract, spec_actuals, mode)) == []


@pytest.mark.parametrize("mode", MODES)
def test_a_constant_typed_over_a_formula_is_found_at_its_cell(
    tmp_path: Path, spec_contract: Contract, spec_actuals: Actuals, mode: str
) -> None:
    path = built(tmp_path, spec_contract, spec_actuals, mode)
    ref = formula_cell(spec_contract, "settlement[2].bonus")
    book = openpyxl.load_workbook(path)
    book[SETTLEMENT][ref] = 99999
    book.save(path)
    found = errors(validate_workbook(path))
    assert [(i.location, i.code) for i in found if i.code.startswith("KX40")] == [
        (f"{path}:{SETTLEMENT}!{ref}", "KX401")
    ]


@pytest.mark.parametrize("mode", MODES)
def test_an_edited_curve_formula_is_found_at_its_cell(
    tmp_path: Path, spec_contract: Contract, spec_actuals: Actuals, mode: str
) -> None:
    path = built(tmp_path, spec_contract, spec_actuals, mode)
    ref = formula_cell(spec_contract, "settlement[3].factor:roas")
    book = openpyxl.load_workbook(path)
    cell = book[SETTLEMENT][ref]
    cell.value = "=1.3"
    book.save(path)
    found = [i for i in validate_workbook(path) if i.code == "KX403"]
    assert [i.location for i in found] == [f"{path}:{SETTLEMENT}!{ref}"]


@pytest.mark.parametrize("mode", MODES)
def test_a_deleted_row_is_found(
    tmp_path: Path, spec_contract: Contract, spec_actuals: Actuals, mode: str
) -> None:
    path = built(tmp_path, spec_contract, spec_actuals, mode)
    book = openpyxl.load_workbook(path)
    book[SETTLEMENT].delete_rows(4)  # the row of period 2027-03
    book.save(path)
    moved = [i for i in validate_workbook(path) if i.code == "KX317"]
    assert moved[0].location == f"{path}:{SETTLEMENT}!A4"
    assert "2027-03" in moved[0].message


@pytest.mark.parametrize("mode", MODES)
def test_a_forged_cached_value_is_the_only_issue(
    tmp_path: Path, spec_contract: Contract, spec_actuals: Actuals, mode: str
) -> None:
    path = built(tmp_path, spec_contract, spec_actuals, mode)
    ref = Layout(spec_contract).total("total")
    forged = tmp_path / "forged.xlsx"
    patch_cached_values(path, forged, {SETTLEMENT: {ref: 150000.0}})
    issues = validate_workbook(forged)
    assert [(i.location, i.code, i.severity) for i in issues] == [
        (f"{forged}:{SETTLEMENT}!{ref}", "KX405", "error")
    ]
    assert "120090.49" in issues[0].message


def test_an_edited_fingerprint_is_found(
    tmp_path: Path, spec_contract: Contract, spec_actuals: Actuals
) -> None:
    path = built(tmp_path, spec_contract, spec_actuals, "native")
    book = openpyxl.load_workbook(path)
    meta = book["_kpixl"]
    for row in meta.iter_rows():
        if row[0].value == "fingerprint":
            row[1].value = "0" * 64
    book.save(path)
    assert "KX404" in {i.code for i in errors(validate_workbook(path))}


def test_business_rules_are_located_to_cells(
    tmp_path: Path, spec_contract: Contract, spec_actuals: Actuals
) -> None:
    path = built(tmp_path, spec_contract, spec_actuals, "native")
    book = openpyxl.load_workbook(path)
    book["Actuals"]["B3"] = "lots"
    book.save(path)
    found = errors(validate_workbook(path))
    assert any("period 2027-02, column gmv" in i.location and i.code == "KX204" for i in found), (
        found
    )


def test_any_file_gives_issues_not_a_traceback(tmp_path: Path) -> None:
    other = tmp_path / "plain.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "hello"
    book.save(other)
    assert [i.code for i in validate_workbook(other)] == ["KX301"]
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    assert [i.code for i in validate_workbook(empty)] == ["KX701"]


def test_every_corpus_file_gives_a_result(corpus: Path) -> None:
    files = sorted(p for p in corpus.rglob("*") if p.suffix in (".xlsx", ".xlsm"))
    assert len(files) > 100
    for path in files:
        issues = validate_workbook(path)
        assert issues, path  # none of them is a kpixl workbook
        assert all(isinstance(i, Issue) for i in issues)


def test_a_lying_dimension_does_not_blow_up_validation(tmp_path: Path) -> None:
    import resource
    import time

    from tests.workbook import hostile

    path = hostile.lying_dimension(tmp_path / "lying.xlsx")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    codes = {i.code for i in validate_workbook(path)}
    assert time.perf_counter() - start < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB
    assert {"KX616", "KX301"} <= codes


@pytest.mark.parametrize("mode", MODES)
def test_terms_retyped_against_the_signed_contract_are_found(
    tmp_path: Path, spec_contract: Contract, spec_actuals: Actuals, mode: str
) -> None:
    path = built(tmp_path, spec_contract, spec_actuals, mode)
    assert validate_workbook(path, expected=spec_contract) == []
    schema = template_schema(spec_contract)
    refs = {c.key: c.ref for c in schema.cells if c.kind == "input"}
    book = openpyxl.load_workbook(path)
    # Weights moved from roas to gmv: still summing to 1, so only the contract shows it.
    weight_gmv, weight_roas = refs["kpis[0].weight"], refs["kpis[1].weight"]
    book["KPIs"][weight_gmv] = 0.6
    book["KPIs"][weight_roas] = 0.2
    book.save(path)
    changed = [i for i in validate_workbook(path, expected=spec_contract) if i.code == "KX320"]
    assert sorted(i.location for i in changed) == sorted(
        [f"{path}:KPIs!{weight_gmv}", f"{path}:KPIs!{weight_roas}"]
    )
    assert "the contract ACME-AMZ-US-2027 says 0.5" in " ".join(i.message for i in changed)


def test_a_workbook_for_another_contract_shape_is_refused(
    tmp_path: Path, spec_contract: Contract, spec_actuals: Actuals
) -> None:
    path = built(tmp_path, spec_contract, spec_actuals, "native")
    fewer = spec_contract.model_copy(update={"guardrails": spec_contract.guardrails[:1]})
    assert [i.code for i in validate_workbook(path, expected=fewer)] == ["KX321"]


def test_what_if_inputs_are_not_contract_terms(
    tmp_path: Path, spec_contract: Contract, spec_actuals: Actuals
) -> None:
    path = built(tmp_path, spec_contract, spec_actuals, "native")
    schema = template_schema(spec_contract)
    (level,) = [c.ref for c in schema.cells if c.key == "scenario[1].level"]
    book = openpyxl.load_workbook(path)
    book["Quote"][level] = 0.6
    book.save(path)
    assert "KX320" not in {i.code for i in validate_workbook(path, expected=spec_contract)}


def priced_contract(spec_contract: Contract, card: RateCard | None = None) -> Contract:
    """The SPEC contract with a quote section, three markets, and the fee its price gives
    (on ``card``, default the sample rate card)."""
    quote = INPUTS.model_copy(update={"platform": None, "markets": None})
    contract = spec_contract.model_copy(update={"quote": quote, "markets": ("US", "CA", "MX")})
    price = price_contract(card or load_rate_card(), contract)
    update = {"base": price.base, "pool": price.pool, "period_cap": price.period_cap}
    return contract.model_copy(update={"fee": contract.fee.model_copy(update=update)})


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("edit", ["platform factor", "headcount"])
def test_fee_contradicting_the_pricing_block_is_found_at_the_fee_cells(
    tmp_path: Path, spec_contract: Contract, spec_actuals: Actuals, mode: str, edit: str
) -> None:
    contract = priced_contract(spec_contract)
    path = built(tmp_path, contract, spec_actuals, mode)
    assert validate_workbook(path) == []  # the fee is the quote's price: no KX125
    layout = Layout(contract)
    book = openpyxl.load_workbook(path)
    card, quote = load_rate_card(), quote_for(contract)
    if edit == "platform factor":  # the RateCard sheet's amazon factor 1.15 -> 1.3
        row = ratecard_names("platforms").index("amazon")
        book[RATECARD][layout.ratecard_cell("platforms", row, "value")] = 1.3
        card = card.model_copy(update={"platforms": card.platforms | {"amazon": 1.3}})
    else:  # one more junior on the Quote's pricing inputs
        book[PRICING][layout.pricing_cell("team.junior")] = 1
        team = quote.team.model_copy(update={"junior": 1.0})
        quote = quote.model_copy(update={"team": team})
    book.save(path)
    # openpyxl drops the cached values; KX125 is computed afresh, not read from the caches.
    want = price_quote(card, quote, contract.period, contract.decimals)
    assert want.base != contract.fee.base
    found = [i for i in validate_workbook(path) if i.code == "KX125"]
    fee = contract.fee
    assert [(i.location, i.severity) for i in found] == [
        (f"{path}:{QUOTE}!B{layout.quote_row(key) + 1}", "error")
        for key in ("base", "pool", "period_cap")
    ]
    assert found[0].message.startswith(
        f"fee.base {fee.base} differs from the price the quote section gives ({want.base:.2f})"
    )
    assert f"({PRICING}!{layout.pricing_cell('base')})" in found[0].message
    assert f"fee.pool {fee.pool} differs" in found[1].message
    assert f"({want.pool:.2f})" in found[1].message


def test_no_kx125_without_a_pricing_block(
    tmp_path: Path, spec_contract: Contract, spec_actuals: Actuals
) -> None:
    # The SPEC contract has no quote section: its fee is not compared with anything.
    path = built(tmp_path, spec_contract, spec_actuals, "native")
    book = openpyxl.load_workbook(path)
    book[QUOTE][f"B{Layout(spec_contract).quote_row('base') + 1}"] = 1234.5
    book.save(path)
    assert "KX125" not in {i.code for i in validate_workbook(path)}


def test_an_adjustment_below_the_adjustments_table_is_named_not_settled(
    tmp_path: Path, spec_contract: Contract, spec_actuals: Actuals
) -> None:
    path = built(tmp_path, spec_contract, spec_actuals, "native")
    layout = Layout(spec_contract)  # built without adjustments: the table is the spare rows
    first = layout.adjustment_header_row + 1  # 0-based, as openpyxl's cell() is 1-based
    rows = {
        "inside": first + layout.adjustment_rows - 1,  # the table's last row
        "below": first + layout.adjustment_rows,  # the row after it
    }
    for where, row in rows.items():
        book = openpyxl.load_workbook(path)
        sheet = book["Actuals"]
        entry = ["2027-02", "gmv", 250000, "duplicate order removed", "CFO"]
        for c, value in enumerate(entry):
            sheet.cell(row + 1, c + 1, value)
        edited = tmp_path / f"{where}.xlsx"
        book.save(edited)
        issues = validate_workbook(edited)
        outside = [i for i in issues if i.code == "KX318"]
        if where == "inside":
            assert outside == []
            recalc(edited)  # the formulas and kpixl agree on the adjusted February
            assert errors(validate_workbook(edited)) == []
        else:
            assert [i.location for i in outside] == [f"{edited}:Actuals!A{row + 1}"]
            assert f"rows {first + 1}-{row}" in outside[0].message
            assert "period 2027-02, gmv," in outside[0].message
            with pytest.raises(WorkbookError) as caught:
                recalc(edited)
            assert [i.code for i in caught.value.issues] == ["KX318"]


def test_a_workbook_of_another_schema_version_is_one_issue_saying_to_rebuild_it(
    tmp_path: Path, spec_contract: Contract, spec_actuals: Actuals
) -> None:
    path = built(tmp_path, spec_contract, spec_actuals, "native")
    book = openpyxl.load_workbook(path)
    meta = book["_kpixl"]
    (row,) = [r for r in meta.iter_rows() if r[0].value == "schema_version"]
    row[1].value = "0"
    book["KPIs"]["A1"] = "moved"  # a layout of another version differs cell by cell too
    book.save(path)
    (issue,) = validate_workbook(path)
    assert issue.code == "KX303"
    assert "schema version '0'; this kpixl reads '1'" in issue.message
    assert "kpixl quote CONTRACT" in issue.message
