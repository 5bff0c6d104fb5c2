"""`kpixl price | scenarios | compare | init`: exit codes, output, named errors, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from kpixl.cli import app
from kpixl.engine.pricing import price_contract
from kpixl.model import load_contract
from kpixl.ratecard import load_rate_card
from tests.conftest import EXAMPLES
from tests.engine.test_pricing import CARD_DATA
from tests.workbook.test_pricing_sheet import agency_card_file

runner = CliRunner()
SPEC = EXAMPLES / "acme-amz-us.yaml"
QUOTE = {
    "team": {"manager": 1, "specialist": 2},
    "markets": 3,
    "category_class": "non_standard",
    "integration": "api",
    "add_ons": ["content", "ads_management"],
    "languages": 2,
    "term_months": 12,
    "base_share": 0.35,
    "risk_premium": 1.2,
    "cap_ratio": 1.5,
    "cps_rate": 0.08,
}
FEE = {"base": 12020.40, "pool": 26788.32, "period_cap": 40182.48}


def files(
    tmp_path: Path,
    quote: dict[str, Any] | None = None,
    fee: dict[str, Any] | None = None,
    card: dict[str, Any] | None = None,
) -> tuple[str, str]:
    data = yaml.safe_load(SPEC.read_text("utf-8"))
    data["quote"] = QUOTE | (quote or {})
    data["fee"] = FEE | (fee or {})
    contract = tmp_path / "c.yaml"
    contract.write_text(yaml.safe_dump(data), "utf-8")
    rate_card = tmp_path / "card.yaml"
    rate_card.write_text(yaml.safe_dump(CARD_DATA | (card or {})), "utf-8")
    return str(contract), str(rate_card)


def test_price_shows_the_arithmetic(tmp_path: Path) -> None:
    contract, card = files(tmp_path)
    result = runner.invoke(app, ["price", contract, "--rate-card", card])
    assert result.exit_code == 0, result.output
    assert "subtotal per month   = 38,160.00" in result.stdout
    assert "list                 = 34,344.00" in result.stdout
    assert "= 12,020.40" in result.stdout and "= 26,788.32" in result.stdout
    assert "= 40,182.48" in result.stdout


def test_price_refuses_a_fee_the_quote_contradicts(tmp_path: Path) -> None:
    contract, card = files(tmp_path, fee={"base": 9000})
    result = runner.invoke(app, ["price", contract, "--rate-card", card])
    assert result.exit_code == 1
    assert (
        f"{contract}: fee.base: KX125 fee.base 9000 differs from the price the quote "
        "section gives (12020.40)"
    ) in result.stderr


def test_named_errors_exit_1_without_traceback(tmp_path: Path) -> None:
    cases: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]] = [
        ({}, {}, {"platforms": CARD_DATA["platforms"] | {"ebay": 1}}, "unknown platform 'ebay'"),
        ({}, {}, {"roles": CARD_DATA["roles"] | {"junior": -1}}, "roles.junior: KX122"),
        (
            {"term_months": 3},
            {},
            {"term_discounts": [{"min_months": 6, "discount": 0.05}]},
            "quote.term_months: KX123 no term tier",
        ),
        ({"base_share": 1.5}, {}, {}, "quote.base_share: KX102 base share s must be in (0, 1]"),
        ({"base_share": 0}, {}, {}, "base share s must be in (0, 1], not 0"),
    ]
    for quote, fee, card_change, needle in cases:
        contract, card = files(tmp_path, quote, fee, card_change)
        for command in (
            ["price", contract, "--rate-card", card],
            ["scenarios", contract, "--rate-card", card],
        ):
            result = runner.invoke(app, command)
            assert result.exit_code == 1, (command, result.output)
            assert needle in result.stderr, (needle, result.stderr)
            assert "Traceback" not in result.output
            assert result.exception is None or isinstance(result.exception, SystemExit)


def test_scenarios_table_and_json(tmp_path: Path) -> None:
    contract, card = files(tmp_path)
    result = runner.invoke(app, ["scenarios", contract, "--rate-card", card])
    assert result.exit_code == 0, result.output
    assert "fixed fee = list price" in result.stdout
    assert "34,344.00" in result.stdout
    result = runner.invoke(
        app, ["scenarios", contract, "--rate-card", card, "--json", "--levels", "0.8,1"]
    )
    document = json.loads(result.stdout)
    assert [r["level"] for r in document["rows"]] == [0.8, 1.0]
    row = document["rows"][1]
    assert row["bonus"] == 26788.32 and row["fixed_fee"] == 34344.0
    assert row["cps_fee"] == 14400.0  # 0.08 · 180000


def test_scenarios_without_quote_says_what_the_fixed_fee_is() -> None:
    result = runner.invoke(app, ["scenarios", str(SPEC)])
    assert result.exit_code == 0
    assert "fixed fee = fee.base + fee.pool (the contract has no quote section)" in result.stdout
    assert "40,500.00" in result.stdout


def test_bad_levels_are_a_usage_error() -> None:
    result = runner.invoke(app, ["scenarios", str(SPEC), "--levels", "1,0.5"])
    assert result.exit_code == 2


def test_compare_table_json_and_xlsx(tmp_path: Path) -> None:
    contract, _ = files(tmp_path)
    other = tmp_path / "b.yaml"
    other.write_text(SPEC.read_text("utf-8").replace("ACME-AMZ-US-2027", "OTHER"), "utf-8")
    out = tmp_path / "compare.xlsx"
    result = runner.invoke(app, ["compare", str(SPEC), contract, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "cheapest" in result.stdout and out.exists()
    result = runner.invoke(app, ["compare", str(SPEC), str(other), "--json"])
    document = json.loads(result.stdout)
    assert document["gmv_basis"] == 180000
    assert document["levels"][0]["cheapest"] == ["ACME-AMZ-US-2027", "OTHER"]
    import openpyxl

    sheet = openpyxl.load_workbook(out)["Compare"]
    assert sheet["C7"].value == 30000  # level 1.0, first quote's fee


def test_compare_needs_two_quotes() -> None:
    result = runner.invoke(app, ["compare", str(SPEC)])
    assert result.exit_code == 1
    assert "KX126" in result.stderr


def test_init_writes_a_loadable_contract(tmp_path: Path) -> None:
    history = tmp_path / "h.csv"
    lines = ["period,gmv,ad_sales,ad_spend"] + [
        f"2026-{m:02d},{g},{g * 0.3},{g * 0.1}"
        for m, g in zip(range(7, 13), [150000, 160000, 150000, 140000, 160000, 200000], strict=True)
    ]
    history.write_text("\n".join(lines) + "\n", "utf-8")
    out = tmp_path / "new.yaml"
    result = runner.invoke(
        app,
        [
            "init",
            "--template",
            "amazon-us-home",
            "--history",
            str(history),
            "--growth",
            "0.25",
            "-o",
            str(out),
            "--client",
            "Acme",
        ],
    )
    assert result.exit_code == 0, result.output
    contract = load_contract(out)
    assert contract.kpis[0].target == 200000  # 160000 · 1.25
    assert contract.client == "Acme"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_init_with_unknown_template_exits_1(tmp_path: Path) -> None:
    history = tmp_path / "h.csv"
    history.write_text("period,gmv\n2026-01,1\n", "utf-8")
    result = runner.invoke(
        app,
        ["init", "--template", "nope", "--history", str(history), "-o", str(tmp_path / "x.yaml")],
    )
    assert result.exit_code == 1
    assert "KX131" in result.stderr


def test_quote_with_an_agency_rate_card_builds_a_workbook_that_validates(tmp_path: Path) -> None:
    card_file = agency_card_file(tmp_path)
    contract, _ = files(tmp_path)
    price = price_contract(load_rate_card(card_file), load_contract(contract))
    fee = {"base": price.base, "pool": price.pool, "period_cap": price.period_cap}
    contract, _ = files(tmp_path, fee=fee)
    out = tmp_path / "q.xlsx"
    args = ["quote", contract, "--rate-card", str(card_file), "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["validate", str(out)])
    assert result.exit_code == 0, result.output
    # Built on the sample card instead, the same contract's fee contradicts the pricing block.
    result = runner.invoke(app, ["quote", contract, "-o", str(tmp_path / "s.xlsx")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["validate", str(tmp_path / "s.xlsx")])
    assert result.exit_code == 1
    assert "KX125" in result.stdout + result.stderr


def test_quote_refuses_a_rate_card_the_sheet_has_no_rows_for(tmp_path: Path) -> None:
    contract, card = files(tmp_path)  # two add-ons and three term tiers: not the sample's
    out = tmp_path / "q.xlsx"
    result = runner.invoke(app, ["quote", contract, "--rate-card", card, "-o", str(out)])
    assert result.exit_code == 1
    assert f"{card}:add_ons: KX127 the workbook's RateCard sheet has rows for the add-ons" in (
        result.stderr
    )
    assert f"{card}:term_discounts: KX127" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()
