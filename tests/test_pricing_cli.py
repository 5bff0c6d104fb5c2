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


def write_quote(path: Path, contract: Any) -> str:
    data = contract.model_dump(mode="json", by_alias=True, exclude_none=True)
    path.write_text(json.dumps(data), "utf-8")
    return str(path)


def test_compare_json_is_spec_10_with_hand_computed_fees(tmp_path: Path) -> None:
    from tests.engine.test_comparison import MONTHLY, QUARTERLY

    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text(
        "scenario,gmv,ad_sales,ad_spend\nweak,50000,20000,4000\nplan,100000,30000,10000\n"
        'boom,"200,000",20000,10000\n',
        "utf-8",
    )
    a = write_quote(tmp_path / "m.json", MONTHLY)
    b = write_quote(tmp_path / "q.json", QUARTERLY)
    result = runner.invoke(app, ["compare", a, b, "--outcomes", str(outcomes), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document) == ["currency", "basis", "scenarios"]
    assert (document["currency"], document["basis"]) == ("USD", "per_month_over_term")
    plan = document["scenarios"][1]
    assert list(plan) == ["name", "outcome", "fees", "cheapest"]
    assert plan["name"] == "plan"
    assert plan["outcome"] == {"gmv": 100000, "ad_sales": 30000, "ad_spend": 10000}
    assert plan["fees"] == [
        {"contract": "M", "base": 500, "bonus": 3000, "total": 3500, "share_of_revenue": 0.035},
        {"contract": "Q", "base": 800, "bonus": 3150, "total": 3950, "share_of_revenue": 0.0395},
    ]
    assert [s["cheapest"] for s in document["scenarios"]] == [["M"], ["M"], ["Q"]]
    result = runner.invoke(app, ["compare", a, b, "--outcomes", str(outcomes)])
    assert result.exit_code == 0, result.output
    assert "Q becomes cheaper than M at gmv ≈ 142,857.14 per month" in result.stdout
    assert "Commitments side by side" in result.stdout
    assert "80,000 (quarterly target ÷ 3)" in result.stdout


def test_compare_workbook_has_fees_chart_and_commitments(tmp_path: Path) -> None:
    import openpyxl

    from tests.engine.test_comparison import MONTHLY, QUARTERLY

    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("scenario,gmv,ad_sales,ad_spend\nplan,100000,30000,10000\n", "utf-8")
    a = write_quote(tmp_path / "m.json", MONTHLY)
    b = write_quote(tmp_path / "q.json", QUARTERLY)
    out = tmp_path / "compare.xlsx"
    result = runner.invoke(app, ["compare", a, b, "--outcomes", str(outcomes), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.stderr
    book = openpyxl.load_workbook(out)
    sheet = book["Compare"]
    header = [c.value for c in sheet[3]]
    row = dict(zip(header, [c.value for c in sheet[4]], strict=False))
    assert row["scenario 场景"] == "plan" and row["gmv / month"] == 100000
    assert (row["M base"], row["M bonus"], row["M total"]) == (500, 3000, 3500)
    assert (row["Q base"], row["Q bonus"], row["Q total"], row["Q % revenue"]) == (
        800,
        3150,
        3950,
        0.0395,
    )
    assert row["cheapest 最低"] == "M"
    curve = book["FeeByRevenue"]
    assert [c.value for c in curve[2]] == ["plan", 100000, 3500, 3950]
    assert len(curve._charts) == 1
    side = {r[0].value: [c.value for c in r[1:]] for r in book["Commitments"].iter_rows()}
    assert side["quote"] == ["M", "Q"]
    assert side["gmv: target per month"] == ["100,000", "80,000 (quarterly target ÷ 3)"]
    assert side["roas: target per month"] == ["", "4"]
    assert side["base share"] == ["14.3%", "21.1%"]


def test_compare_quotes_reading_other_columns_is_refused() -> None:
    glow = str(EXAMPLES / "tiktok-us-beauty.yaml")
    result = runner.invoke(app, ["compare", str(SPEC), glow])
    assert result.exit_code == 1
    assert "KX126" in result.stderr and "GLOWLAB-TTS-US-2027" in result.stderr
    assert "'ad_gmv'" in result.stderr and "--outcomes" in result.stderr
    outcomes = EXAMPLES / "compare-outcomes.csv"
    result = runner.invoke(app, ["compare", str(SPEC), glow, "--outcomes", str(outcomes)])
    assert result.exit_code == 0, result.output


def test_compare_bad_outcomes_file_names_the_line(tmp_path: Path) -> None:
    outcomes = tmp_path / "o.csv"
    outcomes.write_text("scenario,gmv\nplan,lots\n", "utf-8")
    result = runner.invoke(app, ["compare", str(SPEC), str(SPEC), "--outcomes", str(outcomes)])
    assert result.exit_code == 1
    assert "line 2, column gmv: KX128" in result.stderr
    assert "Traceback" not in result.output


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


def test_compare_the_two_examples_on_the_plan_outcome() -> None:
    glow = str(EXAMPLES / "tiktok-us-beauty.yaml")
    outcomes = str(EXAMPLES / "compare-outcomes.csv")
    result = runner.invoke(app, ["compare", str(SPEC), glow, "--outcomes", outcomes, "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)["scenarios"][1]
    assert plan["name"] == "plan"
    # ACME (monthly, 6 periods), gmv 200000 against 180000, 240000, then 300000 x4: gmv pays
    # 10500 · (1 + 0.1111 · 1.5) = 12250, then 10500 · 0.8333 = 8750, then nothing (< 0.8);
    # ROAS 3.5 / 3 -> stepped 1.0 -> 6300; TACoS 0.1 on target -> 4200 every month.
    # Bonus 22750 + 19250 + 4 · 10500 = 84000 over 6 months = 14000; base 9000.
    # GlowLab (quarterly, cumulative): a quarter is gmv 600000, so to-date GMV stays under 70 %
    # of the to-date target and pays nothing; ROAS 3.5 / 4 = 0.875 -> 0.6 · 0.3 · 36000 = 6480
    # and affiliate share 0.35 on target -> 7200 per quarter: 4 · 13680 / 12 = 4560; base 8000.
    assert plan["fees"] == [
        {
            "contract": "ACME-AMZ-US-2027",
            "base": 9000,
            "bonus": 14000,
            "total": 23000,
            "share_of_revenue": 0.115,
        },
        {
            "contract": "GLOWLAB-TTS-US-2027",
            "base": 8000,
            "bonus": 4560,
            "total": 12560,
            "share_of_revenue": 0.0628,
        },
    ]
    assert plan["cheapest"] == ["GLOWLAB-TTS-US-2027"]
