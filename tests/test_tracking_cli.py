"""``kpixl pace`` and ``kpixl review`` on the command line: output, JSON, named errors."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from kpixl.actuals import read_actuals, read_adjustments
from kpixl.cli import app
from kpixl.daily import read_daily, resolve_daily
from kpixl.engine.pacing import pace
from kpixl.engine.review import review
from kpixl.engine.settle import settle
from kpixl.model import load_contract
from tests.conftest import EXAMPLES

runner = CliRunner()
CONTRACT = str(EXAMPLES / "acme-amz-us.yaml")
ACTUALS = str(EXAMPLES / "acme-amz-us.actuals.csv")
DAILY = str(EXAMPLES / "daily" / "acme-amz-us.daily.csv")


def test_pace_prints_the_projection_and_next_steps() -> None:
    result = runner.invoke(app, ["pace", CONTRACT, DAILY])
    assert result.exit_code == 0, result.output
    assert "2027-03, as of 2027-03-12 (day 12 of 31, 12 with data)" in result.stdout
    assert "290,005.00" in result.stdout  # 112,260 · 31 / 12
    assert "+9,881.05 gmv per day to reach 100 %" in result.stdout
    assert "rest of period at" in result.stdout
    assert "Projected bonus 16,089.70" in result.stdout
    assert "total 25,089.70 USD" in result.stdout


def test_pace_json_is_the_spec_document() -> None:
    result = runner.invoke(app, ["pace", CONTRACT, DAILY, "--json", "--as-of", "2027-03-10"])
    assert result.exit_code == 0, result.output
    terms = load_contract(CONTRACT)
    expected = pace(terms, resolve_daily(terms, read_daily(DAILY)), dt.date(2027, 3, 10))
    document = json.loads(result.stdout)
    assert document == expected.to_dict()
    assert (document["as_of"], document["days_elapsed"], document["days_with_data"]) == (
        "2027-03-10",
        10,
        10,
    )
    gmv = document["kpis"][0]
    assert gmv["to_date"] == 93_150
    assert gmv["projected"] == 93_150 * 31 / 10
    assert gmv["next_step"]["per_day"] == (300_000 - 93_150) / 21


def test_pace_counts_the_bonus_paid_under_the_contract_cap(tmp_path: Path) -> None:
    terms = load_contract(CONTRACT)
    tight = tmp_path / "c.yaml"
    tight.write_text(
        Path(CONTRACT).read_text("utf-8").replace("contract_cap: 250000", "contract_cap: 40000"),
        "utf-8",
    )
    paid = settle(terms, read_actuals(ACTUALS)).periods[1].cumulative_bonus
    assert paid == 35490.49
    result = runner.invoke(app, ["pace", str(tight), DAILY, "--actuals", ACTUALS, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["bonus"] == 4509.51  # 40,000 − 35,490.49


def test_pace_reads_a_daily_xlsx_like_the_csv(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    with open(DAILY, encoding="utf-8") as f:
        for i, row in enumerate(csv.reader(f)):
            if i == 0:
                sheet.append(row)
            else:
                day = dt.date.fromisoformat(row[0])
                sheet.append([day, *(float(v) for v in row[1:])])
    path = tmp_path / "daily.xlsx"
    book.save(path)
    from_xlsx = runner.invoke(app, ["pace", CONTRACT, str(path), "--json"])
    from_csv = runner.invoke(app, ["pace", CONTRACT, DAILY, "--json"])
    assert from_xlsx.exit_code == 0, from_xlsx.output
    assert json.loads(from_xlsx.stdout) == json.loads(from_csv.stdout)


@pytest.mark.parametrize(
    ("edit", "code", "where"),
    [
        (lambda t: t.replace("2027-03-05,", "2027-03-04,"), "KX234", "line 6 (date 2027-03-04)"),
        (lambda t: t.replace("2027-03-05,", "2027-08-05,"), "KX233", "line 6 (date 2027-08-05)"),
        (
            lambda t: t.replace(",return_rate,", ",returns,"),
            "KX231",
            "missing column 'return_rate'",
        ),
        (lambda t: t.replace("7640", "7.6k"), "KX235", "line 6 (date 2027-03-05), column gmv"),
    ],
)
def test_bad_daily_files_exit_1_naming_the_place(
    tmp_path: Path, edit: object, code: str, where: str
) -> None:
    bad = tmp_path / "bad.csv"
    assert callable(edit)
    bad.write_text(edit(Path(DAILY).read_text("utf-8")), encoding="utf-8")
    result = runner.invoke(app, ["pace", CONTRACT, str(bad)])
    assert result.exit_code == 1
    assert f"{bad}" in result.stderr
    assert code in result.stderr
    assert where in result.stderr
    assert result.stdout == ""


def test_as_of_outside_the_contract_is_an_error_and_a_bad_date_a_usage_error() -> None:
    outside = runner.invoke(app, ["pace", CONTRACT, DAILY, "--as-of", "2028-01-01"])
    assert outside.exit_code == 1
    assert "KX236" in outside.stderr
    bad = runner.invoke(app, ["pace", CONTRACT, DAILY, "--as-of", "March 3"])
    assert bad.exit_code == 2


def test_review_prints_the_facts() -> None:
    result = runner.invoke(app, ["review", CONTRACT, ACTUALS])
    assert result.exit_code == 0, result.output
    assert "120,090.49" in result.stdout
    assert "Bonus 66,990.49 of a pool of 126,000.00 at 100 % (53.2%)" in result.stdout
    assert "2 misses (2027-04, 2027-05), longest streak 2" in result.stdout
    assert "client may exit now: no" in result.stdout


def test_review_json_and_xlsx(tmp_path: Path) -> None:
    shopee = EXAMPLES / "shopee-vn-fashion"
    args = [f"{shopee}.yaml", f"{shopee}.actuals.csv"]
    args += ["--adjustments", f"{shopee}.adjustments.csv"]
    out = tmp_path / "review.xlsx"
    result = runner.invoke(app, ["review", *args, "--json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    terms = load_contract(f"{shopee}.yaml")
    actuals = read_actuals(f"{shopee}.actuals.csv")
    adjusted = settle(terms, actuals, read_adjustments(f"{shopee}.adjustments.csv"))
    expected = review(terms, adjusted, settle(terms, actuals)).to_dict()
    document = json.loads(result.stdout)
    assert document == expected
    assert document["adjustments"]["count"] == 1
    assert f"wrote {out}" in result.stderr
    book = openpyxl.load_workbook(out, data_only=True)
    sheet = book["Review"]
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert adjusted.totals.total in values
    assert document["kpis"][0]["attainment"][0] in values
    assert sheet.print_area is not None
    assert len(sheet._charts) == 1
    book.close()


def test_review_bad_actuals_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(Path(ACTUALS).read_text("utf-8").replace("62000", "sixty"), encoding="utf-8")
    out = tmp_path / "review.xlsx"
    result = runner.invoke(app, ["review", CONTRACT, str(bad), "-o", str(out)])
    assert result.exit_code == 1
    assert "KX204" in result.stderr
    assert not out.exists()


def test_format_json_csv_and_aliases() -> None:
    as_json = runner.invoke(app, ["pace", CONTRACT, DAILY, "--format", "json"])
    alias = runner.invoke(app, ["pace", CONTRACT, DAILY, "--json"])
    assert as_json.exit_code == 0 and as_json.stdout == alias.stdout
    table = runner.invoke(app, ["pace", CONTRACT, DAILY, "--format", "csv"])
    assert table.exit_code == 0, table.output
    lines = table.stdout.strip().splitlines()
    assert lines[0].startswith("contract,period,as_of,kpi,to_date,projected")
    document = json.loads(as_json.stdout)
    first = lines[1].split(",")
    assert first[3] == "gmv" and float(first[5]) == document["kpis"][0]["projected"]
    assert float(first[13]) == document["kpis"][0]["next_step"]["per_day"]
    review_csv = runner.invoke(app, ["review", CONTRACT, ACTUALS, "--format", "csv"])
    assert review_csv.exit_code == 0
    rows = review_csv.stdout.strip().splitlines()
    assert len(rows) == 1 + 6 * 3
    assert rows[1].split(",")[:4] == ["ACME-AMZ-US-2027", "2027-01", "gmv", str(200000 / 180000)]
    both = runner.invoke(app, ["review", CONTRACT, ACTUALS, "--json", "--format", "csv"])
    assert both.exit_code == 2
