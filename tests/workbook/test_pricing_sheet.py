"""The RateCard sheet and the quote's list price on the Quote sheet (SPEC §6), both modes."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import yaml

from kpixl.actuals import Actuals
from kpixl.engine.pricing import price_quote, quote_for
from kpixl.engine.rounding import excel_round
from kpixl.engine.scenarios import scenarios
from kpixl.errors import Issue
from kpixl.model import Contract, contract_from_data
from kpixl.ratecard import PLATFORMS, RateCardError, load_rate_card
from kpixl.workbook.build import build_workbook
from kpixl.workbook.evaluate import evaluate_workbook
from kpixl.workbook.layout import (
    PRICING,
    PRICING_RESULTS,
    QUOTE,
    RATECARD,
    SCENARIO_ROWS,
    Layout,
    Mode,
    ratecard_names,
)
from kpixl.workbook.read import read_workbook
from kpixl.workbook.recalc import recalc
from kpixl.workbook.template import template_schema
from kpixl.workbook.validate import validate_workbook
from tests.conftest import EXAMPLES
from tests.engine.test_pricing import CARD_DATA, INPUTS
from tests.workbook.test_parity import UDFS, check_parity
from tests.workbook.test_validate import priced_contract

PRICES = ("list", "base", "pool", "period_cap")
SAMPLE_CARD = Path(__file__).resolve().parents[2] / "kpixl" / "data" / "ratecard.yaml"


@pytest.fixture
def quoted(spec_contract: Contract) -> Contract:
    """The SPEC contract with tests/engine/test_pricing.py's quote, three markets, and the fee
    the sample rate card prices it to (else the validator reports KX125)."""
    return priced_contract(spec_contract)


def cached(path: Path, layout: Layout) -> dict[str, object]:
    """The cached values of the pricing results."""
    sheet = openpyxl.load_workbook(path, data_only=True)[PRICING]
    return {key: sheet[layout.pricing_cell(key)].value for key, _en, _zh in PRICING_RESULTS}


def fee_contradicted(issues: list[Issue], layout: Layout) -> list[str]:
    """The fee keys KX125 names, when every issue is a KX125 at a Quote fee cell."""
    rows = {f"B{layout.quote_row(key) + 1}": key for key in ("base", "pool", "period_cap")}
    assert {i.code for i in issues} == {"KX125"}, issues
    return [rows[i.location.rsplit("!", 1)[1]] for i in issues]


def test_sample_rate_card_by_hand() -> None:
    # The workbook starts from the shipped SAMPLE card. The test quote on it, by hand:
    # team      = 7000·1 + 4000·2                                   = 15000
    # adjusted  = 15000 · 1.15 (amazon) · (1 + 0.25·2) · 1.15 (non_standard) = 29756.25
    # subtotal  = 29756.25 + 300 (api) + 1500 + 2000 (add-ons) + 2·400  = 34356.25
    # monthly   = ROUND(34356.25 · (1 − 0.10), 2) = ROUND(30920.625, 2) = 30920.63
    # base      = ROUND(30920.63 · 0.35, 2) = 10822.22; pool = ROUND(30920.63 · 0.65 · 1.2, 2)
    #           = 24118.09; cap = ROUND(24118.09 · 1.5, 2) = 36177.14 (36177.135 rounds up)
    price = price_quote(load_rate_card(), INPUTS.model_copy(update={"markets": 3}))
    assert price.lines.team_cost == 15000
    assert (price.list, price.base, price.pool, price.period_cap) == (
        30920.63,
        10822.22,
        24118.09,
        36177.14,
    )


@pytest.mark.parametrize("mode", ["native", "udf"])
def test_formulas_give_the_engine_price_and_validate(
    quoted: Contract, spec_actuals: Actuals, tmp_path: Path, mode: Mode
) -> None:
    out = tmp_path / "q.xlsx"
    assert check_parity(quoted, spec_actuals, None, mode, out) > 300  # formulas == caches
    layout = Layout(quoted)
    price = price_quote(load_rate_card(), quote_for(quoted), quoted.period, quoted.decimals)
    values = cached(out, layout)
    assert [values[key] for key in PRICES] == [30920.63, 10822.22, 24118.09, 36177.14]
    assert [price.list, price.base, price.pool, price.period_cap] == [values[key] for key in PRICES]
    assert values["term_discount"] == 0.10
    sheet = openpyxl.load_workbook(out, data_only=True)[QUOTE]
    fixed = [sheet[layout.scenario("fixed_fee", i)].value for i in range(SCENARIO_ROWS)]
    assert fixed == [price.list] * SCENARIO_ROWS  # the list price, as `kpixl scenarios`
    assert [r.fixed_fee for r in scenarios(quoted, fixed_fee=price.list)] == fixed
    assert validate_workbook(out) == []
    by_key = {c.key: c for c in template_schema(quoted).cells}
    for key in ("monthly_list", "list"):
        spec = by_key[f"pricing.{key}"]
        assert (spec.udf or "").startswith("KPIXL_LISTPRICE(")
        assert "KPIXL" not in (spec.native or "")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "udf"])
@pytest.mark.parametrize("settlement", ["period", "cumulative"])
def test_quarterly_priced_contract_parity(tmp_path: Path, mode: Mode, settlement: str) -> None:
    # A quarter's list price is three rounded months (KPIXL_LISTPRICE's months argument).
    data = yaml.safe_load((EXAMPLES / "acme-amz-us.yaml").read_text("utf-8"))
    data |= {"period": "quarter", "periods": 2, "settlement": settlement}
    data["markets"] = ["US", "CA", "MX"]
    data["quote"] = INPUTS.model_dump(exclude={"platform", "markets"}, exclude_none=True)
    contract = contract_from_data(data, "quarterly.yaml")
    actuals = Actuals.from_rows(
        ["period", "gmv", "ad_sales", "ad_spend", "gross_margin", "return_rate", "person_days"],
        [["2027-Q1", 800000, 229500, 75000, 0.27, 0.07, 60]],
        "quarters",
    )
    out = tmp_path / "q.xlsx"
    assert check_parity(contract, actuals, None, mode, out) > 100
    values = cached(out, Layout(contract))
    price = price_quote(load_rate_card(), quote_for(contract), "quarter", contract.decimals)
    assert values["list"] == price.list == excel_round(3 * values["monthly_list"], 2)
    assert values["list"] == 92761.89  # ROUND(3 · 30920.63, 2)


def test_rate_card_sheet_holds_the_sample_as_inputs(quoted: Contract, tmp_path: Path) -> None:
    out = build_workbook(quoted, out=tmp_path / "q.xlsx")
    sheet = openpyxl.load_workbook(out)[RATECARD]
    layout = Layout(quoted)
    assert sheet["A1"].value == load_rate_card().name  # the card's name says SAMPLE
    assert "SAMPLE" in sheet["A1"].value
    assert ratecard_names("platforms") == PLATFORMS
    card = load_rate_card()
    for i, name in enumerate(ratecard_names("platforms")):
        assert sheet[layout.ratecard_cell("platforms", i, "name")].value == name
        value = sheet[layout.ratecard_cell("platforms", i, "value")]
        assert value.value == card.platforms[name]
        assert value.protection.locked is False  # an input
    tiers = [t.min_months for t in card.term_discounts]
    assert [sheet[layout.ratecard_cell("term_discounts", i, "name")].value for i in range(4)] == (
        tiers
    )
    specs = [c for c in template_schema(quoted).cells if c.sheet == RATECARD]
    assert not [c for c in specs if c.kind == "formula"]


def test_no_quote_section_no_pricing_block(spec_contract: Contract, tmp_path: Path) -> None:
    layout = Layout(spec_contract)
    assert not layout.priced
    keys = [c.key for c in template_schema(spec_contract).cells]
    assert not [k for k in keys if k.startswith("pricing.")]
    out = build_workbook(spec_contract, out=tmp_path / "q.xlsx")
    book = openpyxl.load_workbook(out, data_only=True)
    assert book[QUOTE][layout.scenario("fixed_fee", 0)].value == 30000.0  # ROUND(base + pool)
    assert PRICING not in book.sheetnames  # no pricing block, so no Pricing sheet


def test_workbook_reads_back_the_quote_section(quoted: Contract, tmp_path: Path) -> None:
    out = build_workbook(quoted, out=tmp_path / "q.xlsx")
    contract, _actuals, _adjustments = read_workbook(out)
    assert contract.quote == quoted.quote


@pytest.mark.parametrize("mode", ["native", "udf"])
def test_edited_headcount_and_rate_card_recalc_to_the_engine_price(
    quoted: Contract, tmp_path: Path, mode: Mode
) -> None:
    built = build_workbook(quoted, mode=mode, out=tmp_path / "q.xlsx")
    layout = Layout(quoted)
    book = openpyxl.load_workbook(built)
    book[PRICING][layout.pricing_cell("team.junior")] = 1
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    recalc(edited)
    team = INPUTS.team.model_copy(update={"junior": 1.0})
    more = INPUTS.model_copy(update={"markets": 3, "team": team})
    want = price_quote(load_rate_card(), more)
    values = cached(edited, layout)
    assert [values[key] for key in PRICES] == [
        want.list,
        want.base,
        want.pool,
        want.period_cap,
    ]
    # subtotal 34356.25 + 2500 · 1.15 · 1.5 · 1.15 (a junior) = 39315.625; · 0.9 = 35384.0625
    assert want.list == 35384.06
    # The caches are fresh; the fee on the Quote sheet no longer is what the block prices.
    assert fee_contradicted(validate_workbook(edited), layout) == ["base", "pool", "period_cap"]

    # Now the rate card of tests/engine/test_pricing.py, typed into the RateCard sheet.
    book = openpyxl.load_workbook(built)
    card = book[RATECARD]
    for table in ("roles", "categories", "integrations"):
        for i, name in enumerate(ratecard_names(table)):
            card[layout.ratecard_cell(table, i, "value")] = CARD_DATA[table][name]
    for i, name in enumerate(ratecard_names("platforms")):
        card[layout.ratecard_cell("platforms", i, "value")] = CARD_DATA["platforms"][name]
    for i, name in enumerate(ratecard_names("add_ons")):
        card[layout.ratecard_cell("add_ons", i, "value")] = CARD_DATA["add_ons"].get(name, 999)
    card[layout.ratecard_cell("settings", 1, "value")] = CARD_DATA["language_fee"]
    card[layout.ratecard_cell("term_discounts", 3, "value")] = 0.1  # 24 months: as 12
    hand = tmp_path / "hand.xlsx"
    book.save(hand)
    recalc(hand)
    # The hand-computed example of tests/engine/test_pricing.py.
    values = cached(hand, layout)
    assert [values[key] for key in PRICES] == [34344.00, 12020.40, 26788.32, 40182.48]
    evaluated = evaluate_workbook(hand, UDFS)
    for key in PRICES:
        assert evaluated[f"{PRICING}!{layout.pricing_cell(key)}"] == pytest.approx(
            values[key], abs=1e-9
        )
    assert fee_contradicted(validate_workbook(hand), layout) == ["base", "pool", "period_cap"]


@pytest.mark.libreoffice
@pytest.mark.slow
def test_native_price_in_libreoffice(quoted: Contract, tmp_path: Path) -> None:
    from kpixl.workbook.patch import patch_cached_values
    from tests.libreoffice import recalc_with_libreoffice

    built = build_workbook(quoted, mode="native", out=tmp_path / "built.xlsx")
    cells = template_schema(quoted).formula_cells()
    # Cached values zeroed first, so the numbers checked can only come from LibreOffice.
    zeros = {
        sheet: {
            c.ref: 0
            for c in cells
            if c.sheet == sheet and c.key.startswith(("pricing.", "scenario["))
        }
        for sheet in (QUOTE, PRICING)
    }
    src = tmp_path / "src" / "native.xlsx"
    src.parent.mkdir()
    assert patch_cached_values(built, src, zeros).ok
    out = recalc_with_libreoffice(src, tmp_path / "lo")
    values = cached(out, Layout(quoted))
    assert [values[key] for key in PRICES] == [30920.63, 10822.22, 24118.09, 36177.14]
    sheet = openpyxl.load_workbook(out, data_only=True)[QUOTE]
    assert sheet[Layout(quoted).scenario("fixed_fee", 3)].value == 30920.63


def agency_card_file(tmp_path: Path, **changes: object) -> Path:
    """A rate card of the sample's shape with an agency's own numbers (and ``changes``)."""
    data = yaml.safe_load(SAMPLE_CARD.read_text("utf-8"))
    data |= {"name": "Acme Agency 2027 price list", "sample": False}
    data["roles"] = {role: rate * 1.1 for role, rate in data["roles"].items()}
    data["platforms"]["amazon"] = 1.3
    data["add_ons"] = {name: fee + 250 for name, fee in data["add_ons"].items()}
    data["term_discounts"] = [
        {"min_months": tier["min_months"] + 1, "discount": tier["discount"] / 2}
        for tier in data["term_discounts"]
    ]
    data |= changes
    path = tmp_path / "agency.yaml"
    path.write_text(yaml.safe_dump(data), "utf-8")
    return path


@pytest.mark.parametrize("mode", ["native", "udf"])
def test_an_agency_rate_card_fills_the_sheet_and_prices_the_quote(
    spec_contract: Contract, spec_actuals: Actuals, tmp_path: Path, mode: Mode
) -> None:
    card = load_rate_card(agency_card_file(tmp_path))
    contract = priced_contract(spec_contract, card)  # the fee the agency's card prices
    out = build_workbook(contract, spec_actuals, mode=mode, out=tmp_path / "q.xlsx", rate_card=card)
    layout = Layout(contract)
    price = price_quote(card, quote_for(contract), contract.period, contract.decimals)
    sample = price_quote(load_rate_card(), quote_for(contract), contract.period, contract.decimals)
    assert price.list != sample.list  # the card makes the difference
    values = cached(out, layout)
    assert [values[key] for key in PRICES] == [price.list, price.base, price.pool, price.period_cap]
    sheet = openpyxl.load_workbook(out)[RATECARD]
    assert sheet["A1"].value == "Acme Agency 2027 price list"
    for table, entries in (("platforms", card.platforms), ("add_ons", card.add_ons)):
        for i, name in enumerate(ratecard_names(table)):
            assert sheet[layout.ratecard_cell(table, i, "name")].value == name
            assert sheet[layout.ratecard_cell(table, i, "value")].value == entries[name]
    tiers = [
        (sheet[layout.ratecard_cell("term_discounts", i, "name")].value,
         sheet[layout.ratecard_cell("term_discounts", i, "value")].value)
        for i in range(len(card.term_discounts))
    ]  # fmt: skip
    assert tiers == [(t.min_months, t.discount) for t in card.term_discounts]
    evaluated = evaluate_workbook(out, UDFS)  # the sheet's formulas agree with the caches
    for key in PRICES:
        got = evaluated[f"{PRICING}!{layout.pricing_cell(key)}"]
        assert got == pytest.approx(values[key], abs=1e-9)
    assert validate_workbook(out) == []
    assert read_workbook(out)[0].quote == contract.quote
    # The same contract on the sample card: its fee contradicts the pricing block.
    on_sample = build_workbook(contract, spec_actuals, mode=mode, out=tmp_path / "s.xlsx")
    assert fee_contradicted(validate_workbook(on_sample), layout) == ["base", "pool", "period_cap"]


def test_a_rate_card_the_sheet_has_no_rows_for_is_refused(
    spec_contract: Contract, tmp_path: Path
) -> None:
    sample = load_rate_card()
    add_ons = dict(sample.add_ons) | {"affiliate_program": 1200}
    tiers = [{"min_months": 1, "discount": 0}, {"min_months": 12, "discount": 0.1}]
    path = agency_card_file(tmp_path, add_ons=add_ons, term_discounts=tiers)
    out = tmp_path / "q.xlsx"
    with pytest.raises(RateCardError) as caught:
        build_workbook(spec_contract, out=out, rate_card=load_rate_card(path))
    issues = {issue.location.rsplit(":", 1)[1]: issue for issue in caught.value.issues}
    assert set(issues) == {"add_ons", "term_discounts"}
    assert {issue.code for issue in issues.values()} == {"KX127"}
    assert "affiliate_program" in issues["add_ons"].message
    assert "has 4 term tiers; this card has 2" in issues["term_discounts"].message
    assert not out.exists()
