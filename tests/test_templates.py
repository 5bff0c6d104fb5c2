"""KPI benchmark templates and `init_from_history`: targets from the last six months of history."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpixl.actuals import Actuals, Cell
from kpixl.engine.pricing import fee_contradictions, price_contract
from kpixl.model import contract_from_data, load_contract
from kpixl.ratecard import load_rate_card
from kpixl.templates import (
    TEMPLATES_DIR,
    TemplateError,
    contract_yaml,
    init_from_history,
)

HEADER = [
    "period",
    "gmv",
    "ad_sales",
    "ad_spend",
    "orders",
    "visitors",
    "shop_rating",
    "affiliate_gmv",
    "ad_gmv",
    "net_sales",
    "repeat_orders",
    "marketing_spend",
    "new_customers",
]
# The first two months fall outside the last six and must not move any target.
GMV = [10000, 999999, 150000, 160000, 150000, 140000, 160000, 200000]
MONTHS = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"]


def history() -> Actuals:
    rows: list[list[Cell]] = [
        [
            month,
            gmv,
            0.3 * gmv,
            0.1 * gmv,
            gmv / 50,
            gmv,
            4.75,
            0.3 * gmv,
            0.3 * gmv,
            gmv,
            gmv / 200,
            0.2 * gmv,
            gmv / 250,
        ]
        for month, gmv in zip(MONTHS, GMV, strict=True)
    ]
    rows.reverse()  # rows may come in any order
    return Actuals.from_rows(HEADER, rows, "history.csv")


def test_amazon_template_targets_from_six_months_and_growth() -> None:
    data = init_from_history("amazon-us-home", history(), growth=0.2).data
    contract = contract_from_data(data, "drafted.yaml")
    # gmv: mean(150000, 160000, 150000, 140000, 160000, 200000) = 160000; × 1.2 = 192000.
    # roas: Σad_sales / Σad_spend = 0.3 / 0.1 = 3; × 1.05 = 3.15 (rounded to 0.05).
    # tacos (lower): Σad_spend / Σgmv = 0.1; × (1 − 0.05) = 0.095.
    assert [k.target for k in contract.kpis] == [192000, 3.15, 0.095]
    assert contract.start.isoformat() == "2027-01-01"
    assert contract.id == "AMAZON-US-HOME-2027-01"
    price = price_contract(load_rate_card(), contract)
    assert fee_contradictions(contract, price) == []


def test_quarterly_template_sums_three_months() -> None:
    data = init_from_history("shopify-dtc-pet", history(), growth=0.1).data
    # net_sales: 160000 a month · 3 · 1.1 = 528000 a quarter.
    # repeat_rate: (gmv/200) / (gmv/50) = 0.25 · 1.05 = 0.2625 -> nearest 0.005, half away: 0.265.
    # cac (lower): 0.2·gmv / (gmv/250) = 50 · (1 − 0.05) = 47.5.
    assert [k["target"] for k in data["kpis"]] == [528000, 0.265, 47.5]


@pytest.mark.parametrize("path", sorted(TEMPLATES_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_template_drafts_a_loadable_contract(path: Path, tmp_path: Path) -> None:
    result = init_from_history(path, history(), 0.2)
    out = tmp_path / "c.yaml"
    out.write_text(contract_yaml(result, path.stem), encoding="utf-8")
    contract = load_contract(out)
    assert contract.quote is not None
    assert "SAMPLE" in out.read_text("utf-8")
    assert "sample" in path.read_text("utf-8").lower()


def test_templates_cover_the_four_markets() -> None:
    names = {p.stem for p in TEMPLATES_DIR.glob("*.yaml")}
    assert {
        "amazon-us-home",
        "shopee-sea-fashion",
        "tiktok-shop-us-beauty",
        "shopify-dtc-pet",
    } <= names


def test_too_little_history_is_named() -> None:
    short = Actuals.from_rows(HEADER[:2], [["2026-12", 1000], ["2026-11", 900]], "short.csv")
    with pytest.raises(TemplateError, match="has 2 months of history; the template needs 6"):
        init_from_history("amazon-us-home", short)


def test_missing_history_column_is_named() -> None:
    rows: list[list[Cell]] = [[m, 1000] for m in MONTHS]
    with pytest.raises(TemplateError, match="missing column 'ad_sales'"):
        init_from_history("amazon-us-home", Actuals.from_rows(HEADER[:2], rows, "h.csv"))


def test_templates_ship_with_the_package() -> None:
    # An installed kpixl (a wheel, no repository) must find them: they are package data, and
    # the repository's workbooks/templates links to the same folder.
    import kpixl

    assert TEMPLATES_DIR.is_relative_to(Path(kpixl.__file__).parent)
    repo = Path(__file__).resolve().parents[1] / "workbooks" / "templates"
    assert repo.resolve() == TEMPLATES_DIR.resolve()
    assert len(list(TEMPLATES_DIR.glob("*.yaml"))) >= 4
