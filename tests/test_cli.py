"""The command line: exit codes, output on stdout, diagnostics on stderr, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from kpixl.actuals import read_actuals
from kpixl.cli import app
from kpixl.engine.settle import settle
from kpixl.model import load_contract
from tests.conftest import EXAMPLES

runner = CliRunner()
CONTRACT = str(EXAMPLES / "acme-amz-us.yaml")
ACTUALS = str(EXAMPLES / "acme-amz-us.actuals.csv")


def test_settle_prints_a_readable_table() -> None:
    result = runner.invoke(app, ["settle", CONTRACT, ACTUALS])
    assert result.exit_code == 0, result.output
    assert "66,990.49" in result.stdout
    assert "120,090.49" in result.stdout
    assert "12,740.49" in result.stdout


def test_settle_json_is_the_api_document() -> None:
    result = runner.invoke(app, ["settle", CONTRACT, ACTUALS, "--json"])
    assert result.exit_code == 0
    expected = settle(load_contract(CONTRACT), read_actuals(ACTUALS)).to_dict()
    assert json.loads(result.stdout) == expected


def test_settle_csv_has_a_row_per_period_and_kpi() -> None:
    result = runner.invoke(app, ["settle", CONTRACT, ACTUALS, "--csv"])
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("contract,index,period,kpi,actual,target,attainment,factor,payout")
    assert len(lines) == 1 + 18


def test_bad_actuals_exit_1_naming_the_place(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(Path(ACTUALS).read_text("utf-8").replace("62000", "sixty"), encoding="utf-8")
    result = runner.invoke(app, ["settle", CONTRACT, str(bad)])
    assert result.exit_code == 1
    assert (
        f"{bad}: period 2027-01, column ad_sales: KX204 is not a number: 'sixty'" in result.stderr
    )
    assert result.stdout == ""


def test_bad_contract_exit_1_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text(Path(CONTRACT).read_text("utf-8").replace("weight: 0.5", "weight: 0.4"), "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "kpixl", "settle", str(bad), ACTUALS],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "weights must sum to 1, they sum to 0.9" in done.stderr
    assert "Traceback" not in done.stderr


def test_usage_errors_exit_2() -> None:
    assert runner.invoke(app, ["settle", CONTRACT]).exit_code == 2
    assert runner.invoke(app, ["settle", CONTRACT, ACTUALS, "--json", "--csv"]).exit_code == 2
    assert runner.invoke(app, ["settle", CONTRACT, ACTUALS, "--bogus"]).exit_code == 2
    for option, value in (("--formulas", "excel"), ("--lang", "fr")):
        result = runner.invoke(app, ["quote", CONTRACT, "-o", "x.xlsx", option, value])
        assert result.exit_code == 2
        assert f"Invalid value for '{option}'" in result.output


def test_schema_contract_prints_json_schema() -> None:
    result = runner.invoke(app, ["schema", "contract"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "kpixl contract"


BAD_CONTRACTS = {
    "unknown key": ("weight: 0.5", "wieght: 0.5", "kpis[0].wieght: KX102 unknown key"),
    "weights": ("weight: 0.5", "weight: 0.45", "weights must sum to 1"),
    "tiers": ("{from: 0.8, rate: 0.5}, {from: 1.0", "{from: 1.0, rate: 0.5}, {from: 1.0",
              "kpis[1].curve: KX102 each tier's 'from' must be unique"),
    "ramp": ("ramp: [0.6, 0.8]", "ramp: [0.6, 0.8, 1, 1, 1, 1, 1]", "kpis[0].ramp: KX104"),
    "target": ("target: 3.0", "target: -3.0", "kpis[1].target: KX105 period 1 (2027-01)"),
    "multiplier": ("multiplier: 0.5", "multiplier: 2", "guardrails[1].multiplier: KX102"),
    "revenue": ("revenue_kpi: gmv", "revenue_kpi: sales", "revenue_kpi 'sales' names no KPI"),
}  # fmt: skip


def test_every_bad_contract_exits_1_naming_the_key(tmp_path: Path) -> None:
    text = Path(CONTRACT).read_text("utf-8")
    for name, (old, new, words) in BAD_CONTRACTS.items():
        assert old in text, name
        bad = tmp_path / f"{name}.yaml"
        bad.write_text(text.replace(old, new, 1), encoding="utf-8")
        result = runner.invoke(app, ["settle", str(bad), ACTUALS])
        assert result.exit_code == 1, name
        assert isinstance(result.exception, SystemExit), name
        assert f"{bad}: " in result.stderr, name
        assert words in result.stderr, (name, result.stderr)


BAD_ACTUALS = {
    "duplicate": (lambda t: t + t.splitlines()[1] + "\n", "line 8: KX206 period 2027-01 appears twice"),
    "outside": (lambda t: t.replace("2027-06", "2027-07"), "line 7: KX205 period '2027-07' is outside"),
    "missing column": (lambda t: t.replace("return_rate", "returns"), "KX203 missing column 'return_rate'"),
    "empty": (lambda t: t.replace(",0.31,", ",,"), "period 2027-01, column gross_margin: KX204 is empty"),
    "text": (lambda t: t.replace(",0.31,", ",n/a,"), "period 2027-01, column gross_margin: KX204 is not a number"),
    "zero denominator": (lambda t: t.replace(",20000,0.31", ",0,0.31"), "period 2027-01, column ad_spend: KX204 is 0"),
    "negative": (lambda t: t.replace("200000,", "-200000,", 1), "period 2027-01, column gmv: KX204 is negative"),
}  # fmt: skip


def test_every_bad_actuals_file_exits_1_naming_period_and_column(tmp_path: Path) -> None:
    text = Path(ACTUALS).read_text("utf-8")
    for name, (edit, words) in BAD_ACTUALS.items():
        bad = tmp_path / f"{name}.csv"
        bad.write_text(edit(text), encoding="utf-8")
        result = runner.invoke(app, ["settle", CONTRACT, str(bad)])
        assert result.exit_code == 1, name
        assert isinstance(result.exception, SystemExit), name
        assert f"{bad}: " in result.stderr, name
        assert words in result.stderr, (name, result.stderr)


def test_quote_validate_recalc_round_trip(tmp_path: Path) -> None:
    book = tmp_path / "quote.xlsx"
    built = runner.invoke(app, ["quote", CONTRACT, "--actuals", ACTUALS, "-o", str(book)])
    assert built.exit_code == 0, built.stderr
    clean = runner.invoke(app, ["validate", str(book)])
    assert clean.exit_code == 0
    assert clean.stdout == ""
    assert "1 clean, 0 error(s), 0 warning(s)" in clean.stderr
    again = tmp_path / "again.xlsx"
    recalc = runner.invoke(app, ["recalc", str(book), "-o", str(again)])
    assert recalc.exit_code == 0, recalc.stderr
    assert runner.invoke(app, ["validate", str(again)]).exit_code == 0


def test_validate_reports_ruff_style_lines_and_json(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.xlsx"
    bogus.write_bytes(b"not a zip")
    text = runner.invoke(app, ["validate", str(bogus)])
    assert text.exit_code == 1
    assert text.stdout.startswith(f"{bogus}: KX702 ")
    as_json = runner.invoke(app, ["validate", str(bogus), "--format", "json"])
    assert as_json.exit_code == 1
    (row,) = json.loads(as_json.stdout)
    assert row["file"] == str(bogus)
    assert (row["code"], row["severity"], row["sheet"], row["cell"]) == (
        "KX702",
        "error",
        None,
        None,
    )


def test_quote_with_bad_actuals_exits_1_without_writing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(Path(ACTUALS).read_text("utf-8").replace("62000", "x"), encoding="utf-8")
    book = tmp_path / "quote.xlsx"
    result = runner.invoke(app, ["quote", CONTRACT, "--actuals", str(bad), "-o", str(book)])
    assert result.exit_code == 1
    assert "period 2027-01, column ad_sales: KX204" in result.stderr
    assert not book.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_an_unwritable_output_is_a_clean_error(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "quote.xlsx"
    done = subprocess.run(
        [sys.executable, "-m", "kpixl", "quote", CONTRACT, "-o", str(target)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert f"{target}: No such file or directory" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_impossible_date_names_its_key(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text(Path(CONTRACT).read_text("utf-8").replace("2027-01-01", "2027-13-01"), "utf-8")
    result = runner.invoke(app, ["settle", str(bad), ACTUALS])
    assert result.exit_code == 1
    assert f"{bad}: start: KX102" in result.stderr
