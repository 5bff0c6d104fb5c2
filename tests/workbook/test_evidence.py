"""The evidence of ``kpixl ingest`` travels: quote --evidence, recalc keeps it, validate checks it."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from kpixl.cli import app
from kpixl.workbook.evidence import (
    EVIDENCE_NAME,
    EVIDENCE_PERIODS_NAME,
    STATEMENT_SOURCE_COLUMNS,
)
from kpixl.workbook.validate import validate_workbook
from tests.intake import exports

runner = CliRunner()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("evidence")
    contract = folder / "contract.yaml"
    contract.write_text(exports.CONTRACT_YAML, encoding="utf-8")
    exports.write_business_report_utf8_bom(folder / "br.csv")
    exports.write_ads_xlsx(folder / "ads.xlsx")
    result = runner.invoke(
        app,
        ["ingest", str(contract), "--source", f"amazon-business-report={folder / 'br.csv'}",
         "--source", f"amazon-ads-campaign={folder / 'ads.xlsx'}",
         "-o", str(folder / "actuals.csv"), "--evidence", str(folder / "e.json")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return {"dir": folder, "contract": contract, "actuals": folder / "actuals.csv",
            "evidence": folder / "e.json"}  # fmt: skip


def quote(ingested: dict[str, Path], out: Path, *extra: str) -> None:
    result = runner.invoke(
        app,
        ["quote", str(ingested["contract"]), "--actuals", str(ingested["actuals"]),
         "--evidence", str(ingested["evidence"]), "-o", str(out), *extra],
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def table(path: Path, name: str) -> list[list[object]]:
    book = openpyxl.load_workbook(path)
    sheet_name, ref = book.defined_names[name].attr_text.split("!")
    rows = [[c.value for c in row] for row in book[sheet_name][ref.replace("$", "")]]
    book.close()
    return rows


@pytest.mark.parametrize("mode", ["native", "udf"])
def test_quote_keeps_the_evidence_beside_the_actuals(
    ingested: dict[str, Path], tmp_path: Path, mode: str
) -> None:
    out = tmp_path / "q.xlsx"
    quote(ingested, out, "--formulas", mode)
    document = json.loads(ingested["evidence"].read_text(encoding="utf-8"))
    sources = table(out, EVIDENCE_NAME)
    assert sources[0] == ["file", "mapping", "sha256", "rows", "first_date", "last_date", "through"]
    assert sources[1:] == [
        [s["file"], s["mapping"], s["sha256"], s["rows"], s["first_date"], s["last_date"],
         document["through"]]
        for s in document["sources"]
    ]  # fmt: skip
    periods = table(out, EVIDENCE_PERIODS_NAME)
    assert periods[0] == [
        "period", "days_with_data", "complete", "recorded gmv", "recorded ad_sales", "recorded ad_spend",
    ]  # fmt: skip
    with ingested["actuals"].open(encoding="utf-8") as handle:
        written = {line.split(",")[0]: line.strip().split(",") for line in handle}
    for row, period in zip(periods[1:], document["periods"], strict=True):
        assert row[:3] == [period["period"], period["days_with_data"],
                           "yes" if period["complete"] else "no"]  # fmt: skip
        if period["complete"]:
            assert row[3:] == [float(v) for v in written[period["period"]][1:4]]
        else:
            assert row[3:] == [None, None, None]
    assert [i for i in validate_workbook(out) if i.severity == "error"] == []
    assert not [i for i in validate_workbook(out) if i.code == "KX249"]


def test_recalc_keeps_the_evidence(ingested: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "q.xlsx"
    quote(ingested, out)
    before = table(out, EVIDENCE_NAME), table(out, EVIDENCE_PERIODS_NAME)
    result = runner.invoke(app, ["recalc", str(out), "-o", str(tmp_path / "r.xlsx")])
    assert result.exit_code == 0, result.output
    after = (
        table(tmp_path / "r.xlsx", EVIDENCE_NAME),
        table(tmp_path / "r.xlsx", EVIDENCE_PERIODS_NAME),
    )
    assert after == before
    assert not [i for i in validate_workbook(tmp_path / "r.xlsx") if i.severity == "error"]


def test_validate_warns_when_an_actual_changed_after_ingest(
    ingested: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "q.xlsx"
    quote(ingested, out)
    book = openpyxl.load_workbook(out)
    book["Actuals"]["B3"] = 99999.99  # February's gmv, typed over what ingest gave
    book.save(tmp_path / "edited.xlsx")
    book.close()
    issues = [i for i in validate_workbook(tmp_path / "edited.xlsx") if i.code == "KX249"]
    assert len(issues) == 1
    assert issues[0].severity == "warning"
    assert issues[0].location.endswith("Actuals!B3")
    assert "period 2027-02, column gmv" in issues[0].message
    result = runner.invoke(app, ["validate", str(tmp_path / "edited.xlsx")])
    assert "KX249" in result.output
    assert result.exit_code == 0  # a warning: the workbook is still usable


def test_evidence_needs_actuals_and_the_same_contract(
    ingested: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "q.xlsx"
    alone = runner.invoke(
        app,
        [
            "quote",
            str(ingested["contract"]),
            "--evidence",
            str(ingested["evidence"]),
            "-o",
            str(out),
        ],
    )
    assert alone.exit_code == 2
    other = tmp_path / "other.json"
    document = json.loads(ingested["evidence"].read_text(encoding="utf-8"))
    other.write_text(json.dumps({**document, "contract": "SOMEONE-ELSE"}), encoding="utf-8")
    result = runner.invoke(
        app,
        ["quote", str(ingested["contract"]), "--actuals", str(ingested["actuals"]),
         "--evidence", str(other), "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "KX248" in result.stderr and "SOMEONE-ELSE" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("mode", ["native", "udf"])
def test_the_statement_shows_the_evidence(
    ingested: dict[str, Path], tmp_path: Path, mode: str
) -> None:
    out = tmp_path / "q.xlsx"
    quote(ingested, out, "--formulas", mode)
    document = json.loads(ingested["evidence"].read_text(encoding="utf-8"))
    book = openpyxl.load_workbook(out)
    sheet = book["Statement"]
    rows = [[c.value for c in row[:7]] for row in sheet.iter_rows()]
    area = book["Statement"].print_area
    book.close()
    header = rows.index(list(STATEMENT_SOURCE_COLUMNS))
    shown = rows[header + 1 : header + 1 + len(document["sources"])]
    assert shown == [
        [s["file"], s["mapping"], s["rows"], s["first_date"], s["last_date"],
         document["through"], s["sha256"]]
        for s in document["sources"]
    ]  # fmt: skip
    # The sources print with the Statement: the print area reaches the last of them.
    assert area.endswith(f"$G${header + 1 + len(document['sources'])}")
    assert [i for i in validate_workbook(out) if i.severity == "error"] == []
