"""Quote pricing (SPEC §6): a hand-computed example, rounding points, rate-card rules."""

from __future__ import annotations

import typing

import pytest

from kpixl.engine.pricing import (
    fee_contradictions,
    list_figures,
    list_price,
    price_contract,
    price_quote,
)
from kpixl.model import Contract, Fee, Platform
from kpixl.ratecard import (
    PLATFORMS,
    QuoteInputs,
    RateCard,
    RateCardError,
    load_rate_card,
    rate_card_from_data,
)

CARD_DATA: dict[str, typing.Any] = {
    "currency": "USD",
    "roles": {
        "senior_manager": 10000,
        "manager": 8000,
        "senior_specialist": 6000,
        "specialist": 4500,
        "junior": 3000,
    },
    "platforms": dict.fromkeys(PLATFORMS, 1.0) | {"amazon": 1.2},
    "market_surcharge": 0.25,
    "categories": {"standard": 1.0, "non_standard": 1.1, "regulated": 1.3},
    "integrations": {"manual": 0, "api": 400, "third_party_tool": 600},
    "add_ons": {"content": 1500, "ads_management": 2000},
    "language_fee": 300,
    "term_discounts": [
        {"min_months": 1, "discount": 0},
        {"min_months": 6, "discount": 0.05},
        {"min_months": 12, "discount": 0.1},
    ],
}
INPUTS = QuoteInputs(
    team={"manager": 1, "specialist": 2},
    platform="amazon",
    markets=3,
    category_class="non_standard",
    integration="api",
    add_ons=("content", "ads_management"),
    languages=2,
    term_months=12,
    base_share=0.35,
    risk_premium=1.2,
    cap_ratio=1.5,
)

#: INPUTS on CARD_DATA as plain numbers, in list_figures' order: role rates, heads, amazon,
#: markets, surcharge, non_standard, api, add-on rates and flags, languages, language fee,
#: the 12-month discount.
HAND_NUMBERS: tuple[typing.Any, ...] = (
    [10000, 8000, 6000, 4500, 3000],
    [0, 1, 0, 2, 0],
    1.2,
    3,
    0.25,
    1.1,
    400,
    [1500, 2000, 999],
    [1, 1, 0],
    2,
    300,
    0.1,
)


@pytest.fixture
def card() -> RateCard:
    return rate_card_from_data(CARD_DATA, "card.yaml")


def test_hand_computed_monthly_price(card: RateCard) -> None:
    # team      = 8000·1 + 4500·2                        = 17000
    # adjusted  = 17000 · 1.2 (amazon) · (1 + 0.25·(3−1)) · 1.1 (non_standard) = 33660
    # subtotal  = 33660 + 400 (api) + 1500 + 2000 (add-ons) + 2·300 (languages) = 38160
    # list      = ROUND(38160 · (1 − 0.10), 2)            = 34344.00  (12-month tier)
    # base      = ROUND(34344 · 0.35, 2)                  = 12020.40
    # pool      = ROUND(34344 · 0.65 · 1.2, 2)            = 26788.32
    # cap       = ROUND(26788.32 · 1.5, 2)                = 40182.48
    price = price_quote(card, INPUTS, "month", 2)
    assert price.lines.team_cost == 17000
    assert price.lines.adjusted_team_cost == pytest.approx(33660)
    assert price.lines.subtotal == pytest.approx(38160)
    assert (price.list, price.base, price.pool, price.period_cap) == (
        34344.00,
        12020.40,
        26788.32,
        40182.48,
    )


def test_hand_computed_quarterly_price(card: RateCard) -> None:
    # list = ROUND(3 · 34344.00, 2) = 103032.00; base = ROUND(103032 · 0.35) = 36061.20
    # pool = ROUND(103032 · 0.65 · 1.2, 2) = 80364.96; cap = ROUND(80364.96 · 1.5, 2) = 120547.44
    price = price_quote(card, INPUTS, "quarter", 2)
    assert (price.list, price.base, price.pool, price.period_cap) == (
        103032.00,
        36061.20,
        80364.96,
        120547.44,
    )
    assert list_price(card, INPUTS, "quarter", 2) == 103032.00


def test_list_figures_from_plain_numbers_by_hand(card: RateCard) -> None:
    # The hand-computed example above, as the numbers a worksheet holds: role rates and heads
    # in role order, add-on rates with 0/1 flags (a third add-on not taken).
    figures = list_figures(*HAND_NUMBERS)
    assert figures.team_cost == 17000
    assert figures.market_multiplier == 1.5
    assert figures.add_on_fees == 3500
    assert figures.language_fees == 600
    assert figures.subtotal == pytest.approx(38160)
    assert (figures.monthly_list, figures.list) == (34344.00, 34344.00)
    quarter = list_figures(*HAND_NUMBERS, months=3)
    assert quarter.list == 103032.00 == list_price(card, INPUTS, "quarter", 2)
    # price_lines is the same arithmetic fed from the rate card.
    lines = price_quote(card, INPUTS, "month", 2).lines
    assert (lines.team_cost, lines.subtotal, lines.monthly_list, lines.list) == (
        figures.team_cost,
        figures.subtotal,
        figures.monthly_list,
        figures.list,
    )


def test_list_figures_defaults_and_rounding_point() -> None:
    # One junior at 2.675 a month, nothing else: ROUND(2.675, 2) is Excel's 2.68, and a
    # quarter is three *rounded* months: ROUND(3 · 2.68, 2) = 8.04 (not ROUND(8.025, 2)).
    assert list_figures([2.675], [1], 1, 1, 0, 1).list == 2.68
    assert list_figures([2.675], [1], 1, 1, 0, 1, months=3).list == 8.04
    assert list_figures([2.675], [1], 1, 1, 0, 1, decimals=0).list == 3.0


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"headcount": [1, 2]}, r"one headcount per role rate is needed \(1 rates, 2 headcounts\)"),
        ({"add_on_flags": [1]}, r"one flag per add-on rate is needed \(0 rates, 1 flags\)"),
        ({"term_discount": 1.0}, r"the term discount must be in \[0, 1\), not 1"),
        ({"term_discount": -0.1}, r"the term discount must be in \[0, 1\), not -0.1"),
    ],
)
def test_list_figures_refuse_mismatched_or_impossible_numbers(
    change: dict[str, typing.Any], needle: str
) -> None:
    args: dict[str, typing.Any] = {
        "role_rates": [5000],
        "headcount": [1],
        "platform_factor": 1.0,
        "markets": 1,
        "market_surcharge": 0.0,
        "category_factor": 1.0,
    }
    with pytest.raises(ValueError, match=needle):
        list_figures(**(args | change))


def test_list_price_uses_excel_round_half_away_from_zero(card: RateCard) -> None:
    data = CARD_DATA | {
        "roles": CARD_DATA["roles"] | {"junior": 2.675},
        "platforms": dict.fromkeys(PLATFORMS, 1.0),
    }
    inputs = QuoteInputs(
        team={"junior": 1},
        platform="shopee",
        term_months=1,
        base_share=1,
    )
    # Excel's ROUND(2.675, 2) is 2.68; Python's round gives 2.67.
    assert list_price(rate_card_from_data(data), inputs) == 2.68
    assert round(2.675, 2) == 2.67


def test_term_discount_is_the_largest_tier_at_or_below_the_term(card: RateCard) -> None:
    assert [card.term_discount(m) for m in (1, 5, 6, 11, 12, 60)] == [0, 0, 0.05, 0.05, 0.1, 0.1]


def test_term_shorter_than_every_tier_is_named(card: RateCard) -> None:
    data = CARD_DATA | {"term_discounts": [{"min_months": 6, "discount": 0.05}]}
    with pytest.raises(RateCardError) as caught:
        list_price(rate_card_from_data(data), INPUTS.model_copy(update={"term_months": 3}))
    (issue,) = caught.value.issues
    assert (issue.location, issue.code) == ("quote.term_months", "KX123")
    assert "no term tier" in issue.message and "(6 months)" in issue.message


@pytest.mark.parametrize(
    ("change", "location", "needle"),
    [
        (
            {"platforms": dict.fromkeys(PLATFORMS, 1.0) | {"ebay": 1.1}},
            "card.yaml: platforms",
            "unknown platform 'ebay'",
        ),
        ({"platforms": {"amazon": 1.0}}, "card.yaml: platforms", "no factor for platform 'shopee'"),
        (
            {"roles": CARD_DATA["roles"] | {"manager": -1}},
            "card.yaml: roles.manager",
            "greater than or equal to 0",
        ),
        ({"language_fee": -5}, "card.yaml: language_fee", "greater than or equal to 0"),
        ({"term_discounts": []}, "card.yaml: term_discounts", "at least 1"),
        (
            {
                "term_discounts": [
                    {"min_months": 12, "discount": 0.1},
                    {"min_months": 6, "discount": 0},
                ]
            },
            "card.yaml: term_discounts",
            "sorted by min_months",
        ),
        ({"surprise": 1}, "card.yaml: surprise", "unknown key"),
    ],
)
def test_bad_rate_cards_name_key_and_rule(
    change: dict[str, typing.Any], location: str, needle: str
) -> None:
    with pytest.raises(RateCardError) as caught:
        rate_card_from_data(CARD_DATA | change, "card.yaml")
    assert any(
        i.location == location and i.code == "KX122" and needle in i.message
        for i in caught.value.issues
    ), caught.value.issues


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"base_share": 0}, "base share s must be in (0, 1], not 0"),
        ({"base_share": 1.5}, "base share s must be in (0, 1], not 1.5"),
        ({"risk_premium": 0.9}, "risk premium r must be >= 1"),
        ({"platform": "ebay"}, "Input should be 'amazon'"),
    ],
)
def test_bad_quote_inputs_are_refused(change: dict[str, typing.Any], needle: str) -> None:
    data = INPUTS.model_dump() | change
    with pytest.raises(ValueError, match=r".") as caught:
        QuoteInputs.model_validate(data)
    assert needle in str(caught.value)


def test_unknown_add_on_is_named(card: RateCard) -> None:
    with pytest.raises(RateCardError) as caught:
        list_price(card, INPUTS.model_copy(update={"add_ons": ("content", "seo")}))
    (issue,) = caught.value.issues
    assert issue.location == "quote.add_ons[1]" and "no add-on 'seo'" in issue.message


def test_default_rate_card_is_labelled_sample_and_prices_every_platform() -> None:
    card = load_rate_card()
    assert card.sample is True and "sample" in card.name
    assert set(card.platforms) == set(PLATFORMS)


def test_rate_card_platforms_match_the_contract_model() -> None:
    assert typing.get_args(Platform) == PLATFORMS


def test_contract_quote_is_priced_and_fee_checked(spec_contract: Contract, card: RateCard) -> None:
    quote = INPUTS.model_copy(update={"platform": None, "markets": None})
    contract = spec_contract.model_copy(update={"quote": quote, "markets": ("US", "CA", "MX")})
    price = price_contract(card, contract)
    assert (price.base, price.pool) == (12020.40, 26788.32)  # markets 3 from the contract
    issues = fee_contradictions(contract, price)
    assert [i.location for i in issues] == ["fee.base", "fee.pool", "fee.period_cap"]
    assert (
        issues[0].message
        == "fee.base 9000 differs from the price the quote section gives (12020.40)"
    )
    agreed = contract.model_copy(
        update={"fee": Fee(base=12020.40, pool=26788.32, period_cap=40182.48)}
    )
    assert fee_contradictions(agreed, price) == []
    # A cent off is a contradiction, and the message shows the amount to the cent.
    off = agreed.model_copy(update={"fee": agreed.fee.model_copy(update={"base": 12020.41})})
    (issue,) = fee_contradictions(off, price)
    assert (
        issue.message
        == "fee.base 12020.41 differs from the price the quote section gives (12020.40)"
    )


def test_rate_card_in_another_currency_is_refused(spec_contract: Contract, card: RateCard) -> None:
    contract = spec_contract.model_copy(update={"quote": INPUTS, "currency": "EUR"})
    with pytest.raises(RateCardError, match="the rate card is in USD, the contract in EUR"):
        price_contract(card, contract)
