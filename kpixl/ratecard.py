"""The rate card (价目表) and the sales inputs of a quote (SPEC §6), as frozen pydantic models.

The default rate card shipped in ``kpixl/data/ratecard.yaml`` holds SAMPLE numbers: they show
the shape of a rate card and make the examples work; they are nobody's real prices.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kpixl.errors import Issue, KpixlError

# The platforms of SPEC §3, one definition (kpixl.model uses this type).
Platform = Literal[
    "amazon", "shopee", "tiktok_shop", "shopify", "lazada", "walmart", "temu", "other"
]
PLATFORMS: tuple[str, ...] = get_args(Platform)
CategoryClass = Literal["standard", "non_standard", "regulated"]
Integration = Literal["manual", "api", "third_party_tool"]
AddOnName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
DEFAULT_LEVELS: tuple[float, ...] = (0.0, 0.5, 0.8, 1.0, 1.2, 1.5)


def ascending_levels(levels: tuple[float, ...] | list[float]) -> bool:
    """Attainment levels ascend, each level once (the scenario table's and ``--levels``' rule)."""
    return list(levels) == sorted(set(levels))


def parse_levels(text: str) -> tuple[float, ...]:
    """Attainment levels written ``0,0.5,0.8``.

    Raises:
        ValueError: not numbers separated by commas, none, negative, or not ascending once each.
    """
    try:
        levels = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as e:
        raise ValueError(f"levels must be numbers separated by commas: {text!r}") from e
    if not levels or any(level < 0 for level in levels) or not ascending_levels(levels):
        raise ValueError("levels must be ascending numbers >= 0, each once")
    return levels


CODE_RATE_CARD_READ = "KX121"
CODE_RATE_CARD_RULE = "KX122"
CODE_NO_TERM_TIER = "KX123"
CODE_QUOTE_RULE = "KX124"
CODE_FEE_CONTRADICTS_QUOTE = "KX125"


class RateCardError(KpixlError):
    """A rate card that cannot be loaded, or quote inputs it cannot price."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RoleRates(_Model):
    """Monthly cost of one full-time person, per team role level."""

    senior_manager: NonNegative
    manager: NonNegative
    senior_specialist: NonNegative
    specialist: NonNegative
    junior: NonNegative


class Team(_Model):
    """Headcount per team role level (fractions are part-time people)."""

    senior_manager: NonNegative = 0.0
    manager: NonNegative = 0.0
    senior_specialist: NonNegative = 0.0
    specialist: NonNegative = 0.0
    junior: NonNegative = 0.0


ROLES: tuple[str, ...] = tuple(RoleRates.model_fields)


class CategoryFactors(_Model):
    """Complexity factor per category class."""

    standard: Positive
    non_standard: Positive
    regulated: Positive


class IntegrationFees(_Model):
    """Monthly fee per data-integration method."""

    manual: NonNegative
    api: NonNegative
    third_party_tool: NonNegative


class TermTier(_Model):
    """From this contract length on, this discount on the monthly list price."""

    min_months: Annotated[int, Field(ge=1)]
    discount: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]


class RateCard(_Model):
    """A provider's price list (SPEC §6); the shipped default holds SAMPLE numbers only.

    ``roles`` are monthly costs per head; ``platforms`` a factor for every SPEC §3 platform;
    ``market_surcharge`` the factor each extra market adds; ``categories`` a factor per category
    class; ``integrations``, ``add_ons`` and ``language_fee`` monthly fees; ``term_discounts``
    the discount of the largest tier whose ``min_months`` is at most the term.
    """

    name: str = "rate card"
    sample: bool = False
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    roles: RoleRates
    platforms: dict[str, Positive]
    market_surcharge: NonNegative
    categories: CategoryFactors
    integrations: IntegrationFees
    add_ons: dict[AddOnName, NonNegative] = Field(default_factory=dict)
    language_fee: NonNegative
    term_discounts: Annotated[tuple[TermTier, ...], Field(min_length=1)]

    @field_validator("platforms")
    @classmethod
    def _every_platform(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(PLATFORMS))
        if unknown:
            raise ValueError(
                f"unknown platform {', '.join(map(repr, unknown))} (one of {', '.join(PLATFORMS)})"
            )
        missing = [p for p in PLATFORMS if p not in value]
        if missing:
            raise ValueError(f"no factor for platform {', '.join(map(repr, missing))}")
        return value

    @field_validator("term_discounts")
    @classmethod
    def _tiers_ascend(cls, value: tuple[TermTier, ...]) -> tuple[TermTier, ...]:
        months = [tier.min_months for tier in value]
        if months != sorted(set(months)):
            raise ValueError("term tiers must be sorted by min_months, each min_months once")
        return value

    def term_discount(self, term_months: int) -> float:
        """The discount of the largest tier whose ``min_months`` is at most the term.

        Args:
            term_months: the contract length in months.

        Returns:
            The discount, a fraction in [0, 1).

        Raises:
            RateCardError: the term is shorter than every tier (code KX123).
        """
        eligible = [tier for tier in self.term_discounts if tier.min_months <= term_months]
        if not eligible:
            shortest = self.term_discounts[0].min_months
            message = (
                f"no term tier: a {term_months}-month term is shorter than the smallest "
                f"tier ({shortest} months)"
            )
            raise RateCardError.from_issues(
                [Issue("quote.term_months", CODE_NO_TERM_TIER, message)]
            )
        return eligible[-1].discount


class QuoteInputs(_Model):
    """The sales inputs of a quote; ``platform`` and ``markets`` default to the contract's."""

    team: Team
    platform: Platform | None = None
    markets: Annotated[int, Field(ge=1)] | None = None
    category_class: CategoryClass = "standard"
    integration: Integration = "manual"
    add_ons: tuple[AddOnName, ...] = ()
    languages: Annotated[int, Field(ge=0)] = 0
    term_months: Annotated[int, Field(ge=1)]
    base_share: float
    risk_premium: float = 1.0
    cap_ratio: Positive | None = None
    cps_rate: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    levels: tuple[NonNegative, ...] | None = None

    @field_validator("base_share")
    @classmethod
    def _share_in_range(cls, value: float) -> float:
        if not 0 < value <= 1:
            raise ValueError(f"base share s must be in (0, 1], not {value:g}")
        return value

    @field_validator("risk_premium")
    @classmethod
    def _premium_at_least_one(cls, value: float) -> float:
        if not value >= 1:
            raise ValueError(f"risk premium r must be >= 1, not {value:g}")
        return value

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        if len(set(self.add_ons)) != len(self.add_ons):
            raise ValueError("each add-on may be listed once")
        if self.levels is not None and not ascending_levels(self.levels):
            raise ValueError("scenario levels must ascend, each level once")
        return self


def rate_card_from_data(data: Any, source: str = "<rate card>") -> RateCard:
    """Validate parsed rate-card data.

    Args:
        data: the mapping read from YAML.
        source: the file name used in error messages.

    Returns:
        The rate card.

    Raises:
        RateCardError: naming the file, the key and the rule broken (code KX122).
    """
    if not isinstance(data, dict):
        issue = Issue(source, CODE_RATE_CARD_READ, "a rate card must hold a mapping of keys")
        raise RateCardError.from_issues([issue])
    try:
        return RateCard.model_validate(data)
    except ValidationError as e:
        raise RateCardError.from_issues(issues_from(e, source, CODE_RATE_CARD_RULE)) from e


def issues_from(error: ValidationError, source: str, code: str) -> list[Issue]:
    """One Issue per pydantic error, located as ``file: key.path[i]``.

    Args:
        error: the validation error.
        source: the file named in each location.
        code: the stable code every issue carries.

    Returns:
        The issues.
    """
    issues = []
    for detail in error.errors(include_url=False):
        path = ""
        for part in detail["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            message = "unknown key (typos must not silently change money)"
        elif detail["type"] == "missing":
            message = "required key is missing"
        issues.append(Issue(f"{source}: {path or '(top)'}", code, message))
    return issues


def load_rate_card(path: str | Path | None = None) -> RateCard:
    """Load a rate card from YAML, or the shipped SAMPLE rate card when no path is given.

    Args:
        path: a rate-card YAML file, or None for ``kpixl/data/ratecard.yaml``.

    Returns:
        The rate card.

    Raises:
        RateCardError: the file is unreadable or breaks a rule.
    """
    if path is None:
        source = "kpixl/data/ratecard.yaml"
        text = resources.files("kpixl").joinpath("data/ratecard.yaml").read_text("utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            issue = Issue(source, CODE_RATE_CARD_READ, f"cannot read: {e}")
            raise RateCardError.from_issues([issue]) from e
    return rate_card_from_text(text, source)


def _safe_load(text: str) -> Any:
    """``yaml.safe_load`` with libyaml's parser where there is one (the same documents, several
    times faster: every workbook read loads the SAMPLE card); errors are the Python parser's."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(text, fast)
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def rate_card_from_text(text: str, source: str) -> RateCard:
    """A rate card from a YAML file's text (``source`` names the file in messages)."""
    try:
        data = _safe_load(text)
    except yaml.YAMLError as e:
        issue = Issue(source, CODE_RATE_CARD_READ, f"not valid YAML: {e}")
        raise RateCardError.from_issues([issue]) from e
    return rate_card_from_data(data, source)
