"""Quote pricing (SPEC §6): list price from a rate card, then base, pool and period cap."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from kpixl.engine.rounding import excel_round
from kpixl.errors import Issue
from kpixl.model import Contract, Fee, PeriodKind
from kpixl.ratecard import (
    CODE_FEE_CONTRADICTS_QUOTE,
    CODE_QUOTE_RULE,
    ROLES,
    QuoteInputs,
    RateCard,
    RateCardError,
)

MONTHS_PER_PERIOD: dict[str, int] = {"month": 1, "quarter": 3}


@dataclass(frozen=True, slots=True)
class PriceLines:
    """Every intermediate figure of the list price, for showing the arithmetic line by line."""

    team_cost: float
    platform_factor: float
    market_multiplier: float
    category_factor: float
    adjusted_team_cost: float
    integration_fee: float
    add_on_fees: tuple[tuple[str, float], ...]
    language_fees: float
    subtotal: float
    term_discount: float
    monthly_list: float
    months: int
    list: float


@dataclass(frozen=True, slots=True)
class Price:
    """A priced quote: list price, base fee, bonus pool and period cap per settlement period."""

    list: float
    base: float
    pool: float
    period_cap: float | None
    lines: PriceLines


@dataclass(frozen=True, slots=True)
class ListFigures:
    """The SPEC §6 list-price arithmetic on plain numbers, each intermediate figure kept."""

    team_cost: float
    market_multiplier: float
    adjusted_team_cost: float
    add_on_fees: float
    language_fees: float
    subtotal: float
    monthly_list: float
    list: float


def list_figures(
    role_rates: Sequence[float],
    headcount: Sequence[float],
    platform_factor: float,
    markets: float,
    market_surcharge: float,
    category_factor: float,
    integration_fee: float = 0.0,
    add_on_rates: Sequence[float] = (),
    add_on_flags: Sequence[float] = (),
    languages: float = 0.0,
    language_fee: float = 0.0,
    term_discount: float = 0.0,
    months: int = 1,
    decimals: int = 2,
) -> ListFigures:
    """The SPEC §6 list price from numbers: the one place its arithmetic is written.

    ``price_lines`` feeds it from a rate card and quote inputs, KPIXL_LISTPRICE from cells;
    the workbook's native formulas spell the same steps in the same order.

    Args:
        role_rates: monthly cost per head, one per role.
        headcount: heads per role, in the order of ``role_rates``.
        platform_factor: the platform's factor.
        markets: the number of markets (the first carries no surcharge).
        market_surcharge: the factor each market beyond the first adds.
        category_factor: the category class's factor.
        integration_fee: the monthly data-integration fee.
        add_on_rates: monthly fee per add-on service.
        add_on_flags: per add-on, 1 when taken and 0 when not (a count multiplies the fee).
        languages: the number of extra languages.
        language_fee: the monthly fee per extra language.
        term_discount: the term tier's discount, a fraction in [0, 1).
        months: monthly list prices per settlement period (1 month, 3 quarter).
        decimals: the currency's decimals.

    Returns:
        team = Σ rate · heads; monthly = ROUND((team · platform · (1 + surcharge · (markets − 1))
        · category + integration + Σ add-ons + language_fee · languages) · (1 − discount), d);
        list = ROUND(monthly · months, d).

    Raises:
        ValueError: rates and headcounts (or add-on rates and flags) of different lengths,
            or a discount outside [0, 1).
    """
    if len(role_rates) != len(headcount):
        raise ValueError(
            f"one headcount per role rate is needed ({len(role_rates)} rates, "
            f"{len(headcount)} headcounts)"
        )
    if len(add_on_rates) != len(add_on_flags):
        raise ValueError(
            f"one flag per add-on rate is needed ({len(add_on_rates)} rates, "
            f"{len(add_on_flags)} flags)"
        )
    if not 0 <= term_discount < 1:
        raise ValueError(f"the term discount must be in [0, 1), not {term_discount:g}")
    team_cost = math.fsum(rate * heads for rate, heads in zip(role_rates, headcount, strict=True))
    market_multiplier = 1 + market_surcharge * (markets - 1)
    adjusted = team_cost * platform_factor * market_multiplier * category_factor
    add_on_fees = math.fsum(
        rate * flag for rate, flag in zip(add_on_rates, add_on_flags, strict=True)
    )
    language_fees = language_fee * languages
    subtotal = adjusted + integration_fee + add_on_fees + language_fees
    monthly = excel_round(subtotal * (1 - term_discount), decimals)
    listed = excel_round(monthly * months, decimals)
    return ListFigures(
        team_cost,
        market_multiplier,
        adjusted,
        add_on_fees,
        language_fees,
        subtotal,
        monthly,
        listed,
    )


def price_lines(
    rate_card: RateCard, inputs: QuoteInputs, period: PeriodKind = "month", decimals: int = 2
) -> PriceLines:
    """The SPEC §6 list-price arithmetic, each factor kept apart.

    Args:
        rate_card: the prices.
        inputs: the sales inputs; ``platform`` and ``markets`` must be set (see ``quote_for``).
        period: ``month`` or ``quarter`` (three monthly list prices).
        decimals: the currency's decimals.

    Returns:
        The figures; ``monthly_list`` and ``list`` are already rounded to the currency.

    Raises:
        RateCardError: an unset platform, an add-on the card does not price, no term tier.
    """
    issues = _unpriceable(rate_card, inputs)
    if issues:
        raise RateCardError.from_issues(issues)
    platform = inputs.platform or "other"
    platform_factor = rate_card.platforms[platform]
    category_factor = getattr(rate_card.categories, inputs.category_class)
    integration_fee = getattr(rate_card.integrations, inputs.integration)
    discount = rate_card.term_discount(inputs.term_months)
    months = MONTHS_PER_PERIOD[period]
    figures = list_figures(
        [getattr(rate_card.roles, role) for role in ROLES],
        [getattr(inputs.team, role) for role in ROLES],
        platform_factor,
        inputs.markets or 1,
        rate_card.market_surcharge,
        category_factor,
        integration_fee,
        list(rate_card.add_ons.values()),
        [1.0 if name in inputs.add_ons else 0.0 for name in rate_card.add_ons],
        inputs.languages,
        rate_card.language_fee,
        discount,
        months,
        decimals,
    )
    return PriceLines(
        figures.team_cost,
        platform_factor,
        figures.market_multiplier,
        category_factor,
        figures.adjusted_team_cost,
        integration_fee,
        tuple((name, rate_card.add_ons[name]) for name in inputs.add_ons),
        figures.language_fees,
        figures.subtotal,
        discount,
        figures.monthly_list,
        months,
        figures.list,
    )


def _unpriceable(rate_card: RateCard, inputs: QuoteInputs) -> list[Issue]:
    issues = []
    if inputs.platform is None:
        issues.append(Issue("quote.platform", CODE_QUOTE_RULE, "no platform to price"))
    for i, name in enumerate(inputs.add_ons):
        if name not in rate_card.add_ons:
            known = ", ".join(rate_card.add_ons) or "none"
            message = f"the rate card has no add-on {name!r} (it prices: {known})"
            issues.append(Issue(f"quote.add_ons[{i}]", CODE_QUOTE_RULE, message))
    return issues


def list_price(
    rate_card: RateCard, inputs: QuoteInputs, period: PeriodKind = "month", decimals: int = 2
) -> float:
    """The list price per settlement period (SPEC §6).

    A quarter's list price is ROUND(3 · monthly list, d): three rounded monthly prices.

    Args:
        rate_card: the prices.
        inputs: the sales inputs, ``platform`` and ``markets`` set.
        period: ``month`` or ``quarter``.
        decimals: the currency's decimals.

    Returns:
        The list price, rounded to the currency.
    """
    return price_lines(rate_card, inputs, period, decimals).list


def price_quote(
    rate_card: RateCard, inputs: QuoteInputs, period: PeriodKind = "month", decimals: int = 2
) -> Price:
    """List price, base fee, bonus pool and period cap of a quote (SPEC §6).

    Args:
        rate_card: the prices.
        inputs: the sales inputs, ``platform`` and ``markets`` set.
        period: ``month`` or ``quarter``.
        decimals: the currency's decimals.

    Returns:
        base = ROUND(list · s, d), pool = ROUND(list · (1 − s) · r, d),
        period_cap = ROUND(pool · cap_ratio, d) or None without a cap ratio.
    """
    lines = price_lines(rate_card, inputs, period, decimals)
    listed = lines.list
    base = excel_round(listed * inputs.base_share, decimals)
    pool = excel_round(listed * (1 - inputs.base_share) * inputs.risk_premium, decimals)
    cap = None if inputs.cap_ratio is None else excel_round(pool * inputs.cap_ratio, decimals)
    return Price(listed, base, pool, cap, lines)


def quote_for(contract: Contract) -> QuoteInputs:
    """The contract's quote inputs with platform and markets filled in from the contract.

    Args:
        contract: a contract with a ``quote`` section.

    Returns:
        The inputs ready to price.

    Raises:
        RateCardError: no quote section, or a quote platform other than the contract's.
    """
    quote = contract.quote
    if quote is None:
        issue = Issue("quote", CODE_QUOTE_RULE, f"contract {contract.id} has no quote section")
        raise RateCardError.from_issues([issue])
    if quote.platform is not None and quote.platform != contract.platform:
        message = f"{quote.platform!r} contradicts the contract's platform {contract.platform!r}"
        raise RateCardError.from_issues([Issue("quote.platform", CODE_QUOTE_RULE, message)])
    markets = quote.markets or max(1, len(contract.markets))
    return quote.model_copy(update={"platform": contract.platform, "markets": markets})


def price_contract(rate_card: RateCard, contract: Contract) -> Price:
    """Price a contract's quote section with a rate card in the contract's currency.

    Args:
        rate_card: the prices.
        contract: a contract with a ``quote`` section.

    Returns:
        The price per settlement period of the contract.

    Raises:
        RateCardError: no quote, a currency mismatch, or inputs the card cannot price.
    """
    if rate_card.currency != contract.currency:
        message = (
            f"the rate card is in {rate_card.currency}, the contract in {contract.currency}; "
            "use a rate card in the contract's currency"
        )
        raise RateCardError.from_issues([Issue("rate card: currency", CODE_QUOTE_RULE, message)])
    return price_quote(rate_card, quote_for(contract), contract.period, contract.decimals)


def fee_contradictions(contract: Contract, price: Price) -> list[Issue]:
    """Where the contract's ``fee`` differs from the price its quote section gives.

    ``fee`` wins (it is what the engine settles and the workbook shows); a difference of more
    than 0 is a contradiction the caller refuses.

    Args:
        contract: the contract.
        price: the price of its quote section.

    Returns:
        One issue per differing amount (base, pool, and period_cap when a cap ratio is set).
    """
    d = contract.decimals
    fee: Fee = contract.fee
    pairs: list[tuple[str, float | None, float]] = [
        ("base", fee.base, price.base),
        ("pool", fee.pool, price.pool),
    ]
    if price.period_cap is not None:
        pairs.append(("period_cap", fee.period_cap, price.period_cap))
    issues = []
    for key, stated, derived in pairs:
        if stated != derived:
            shown = "(none)" if stated is None else f"{stated:.15g}"
            message = (
                f"fee.{key} {shown} differs from the price the quote section gives "
                f"({derived:.{d}f})"
            )
            issues.append(Issue(f"fee.{key}", CODE_FEE_CONTRADICTS_QUOTE, message))
    return issues


def fixed_fee_basis(contract: Contract, card: RateCard | None) -> tuple[float | None, str]:
    """The fixed-fee alternative of the scenario table, and how it was found.

    Args:
        contract: the contract.
        card: the rate card that prices its quote section (unused without one).

    Returns:
        (the quote's list price, its basis) with a quote section; else (None, the basis
        ``fee.base + fee.pool`` that :func:`kpixl.engine.scenarios.scenarios` then uses).

    Raises:
        RateCardError: the quote cannot be priced, or ``fee`` contradicts the price (KX125).
    """
    if contract.quote is None:
        return None, "fixed fee = fee.base + fee.pool (the contract has no quote section)"
    if card is None:
        raise ValueError("a contract with a quote section needs a rate card")
    price = price_contract(card, contract)
    problems = fee_contradictions(contract, price)
    if problems:
        raise RateCardError.from_issues(problems)
    return price.list, f"fixed fee = list price from {card.name}"
