"""Actuals and adjustments as .xlsx (first sheet, same layout) or CSV in other encodings."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from typer.testing import CliRunner

import kpixl
from kpixl.actuals import read_actuals as read_actuals_csv
from kpixl.batch import BatchOptions, discover, run_batch
from kpixl.cli import app
from kpixl.engine.settle import settle
from kpixl.errors import KpixlError
from kpixl.model import load_contract
from tests.conftest import EXAMPLES

runner = CliRunner()
SHOPEE = EXAMPLES / "shopee-vn-fashion.yaml"
SHOPEE_ACTUALS = EXAMPLES / "shopee-vn-fashion.actuals.csv"
ACME = EXAMPLES / "acme-amz-us.yaml"
ACME_ACTUALS = EXAMPLES / "acme-amz-us.actuals.csv"


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def write_xlsx(path: Path, rows: list[list[Any]], typed: bool = True) -> Path:
    """The CSV's rows in the first sheet; numbers typed as numbers (as Excel would keep them)."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Actuals")
    workbook.add_worksheet("Notes").write(0, 0, "not read: only the first sheet counts")
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            value = cell
            if typed and r and c:
                try:
                    value = float(cell.replace(",", "").rstrip("%")) / (100 if "%" in cell else 1)
                except ValueError:
                    value = cell
            sheet.write(r, c, value)
    workbook.close()
    return path


def settle_json(*args: str | Path) -> dict[str, Any]:
    result = runner.invoke(app, ["settle", *(str(a) for a in args), "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_settle_reads_xlsx_actuals_like_the_csv(tmp_path: Path) -> None:
    xlsx = write_xlsx(tmp_path / "actuals.xlsx", csv_rows(ACME_ACTUALS))
    assert settle_json(ACME, xlsx) == settle_json(ACME, ACME_ACTUALS)
    totals = settle_json(ACME, xlsx)["totals"]
    assert totals == {"base": 53100.0, "bonus": 66990.49, "total": 120090.49}  # SPEC §5


def test_xlsx_actuals_with_text_cells_and_adjustments_xlsx(tmp_path: Path) -> None:
    actuals = write_xlsx(tmp_path / "a.xlsx", csv_rows(SHOPEE_ACTUALS), typed=False)
    adjustments = write_xlsx(
        tmp_path / "adj.xlsx",
        csv_rows(EXAMPLES / "shopee-vn-fashion.adjustments.csv"),
        typed=False,
    )
    expected = settle_json(
        SHOPEE, SHOPEE_ACTUALS, "--adjustments", EXAMPLES / "shopee-vn-fashion.adjustments.csv"
    )
    assert settle_json(SHOPEE, actuals, "--adjustments", adjustments) == expected


def test_python_api_reads_xlsx_too(tmp_path: Path) -> None:
    xlsx = write_xlsx(tmp_path / "actuals.xlsx", csv_rows(ACME_ACTUALS))
    contract = load_contract(ACME)
    from_xlsx = settle(contract, kpixl.read_actuals(xlsx)).to_dict()
    assert from_xlsx == settle(contract, kpixl.read_actuals(ACME_ACTUALS)).to_dict()


def test_gb18030_adjustments_with_encoding(tmp_path: Path) -> None:
    adjustments = tmp_path / "adjustments.csv"
    adjustments.write_bytes(
        "period,metric,value,reason,approved_by\n"
        '2027-05,gmv,"1,720,000,000",断货补偿,陈财务\n'.encode("gb18030")
    )
    result = runner.invoke(
        app,
        ["settle", str(SHOPEE), str(SHOPEE_ACTUALS), "--adjustments", str(adjustments),
         "--encoding", "gb18030"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "断货补偿" in result.stdout and "陈财务" in result.stdout
    english = EXAMPLES / "shopee-vn-fashion.adjustments.csv"
    chinese = settle_json(
        SHOPEE, SHOPEE_ACTUALS, "--adjustments", adjustments, "--encoding", "gb18030"
    )
    reference = settle_json(SHOPEE, SHOPEE_ACTUALS, "--adjustments", english)
    assert chinese["periods"] == reference["periods"]
    assert chinese["totals"] == reference["totals"]
    assert [(a["reason"], a["approved_by"]) for a in chinese["adjustments"]] == [
        ("断货补偿", "陈财务")
    ]
    without = runner.invoke(
        app, ["settle", str(SHOPEE), str(SHOPEE_ACTUALS), "--adjustments", str(adjustments)]
    )
    assert without.exit_code == 1
    assert "KX200 not UTF-8 text" in without.stderr and "--encoding" in without.stderr
    assert "it looks like GB18030" in without.stderr


def test_utf16_actuals_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "actuals.txt"
    text = ACME_ACTUALS.read_text(encoding="utf-8-sig").replace(",", "\t")
    path.write_bytes(text.encode("utf-16"))
    assert settle_json(ACME, path) == settle_json(ACME, ACME_ACTUALS)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"%PDF-1.7\n\x00\x01\x02binary", "KX208 is neither CSV text nor an .xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "KX208 is an old binary .xls"),
        (b"PK\x03\x04not really a zip", "KX70"),
    ],
)
def test_a_file_that_is_neither_is_a_clear_error(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "actuals.xlsx"
    path.write_bytes(content)
    result = runner.invoke(app, ["settle", str(ACME), str(path)])
    assert result.exit_code == 1
    assert expected in result.stderr
    assert "Traceback" not in result.output


def test_the_csv_reader_names_an_xlsx_it_is_handed(tmp_path: Path) -> None:
    xlsx = write_xlsx(tmp_path / "a.xlsx", csv_rows(ACME_ACTUALS))
    with pytest.raises(KpixlError, match="KX208"):
        read_actuals_csv(xlsx)


def test_quote_builds_from_xlsx_actuals(tmp_path: Path) -> None:
    xlsx = write_xlsx(tmp_path / "a.xlsx", csv_rows(ACME_ACTUALS))
    from_xlsx = tmp_path / "x.xlsx"
    result = runner.invoke(app, ["quote", str(ACME), "--actuals", str(xlsx), "-o", str(from_xlsx)])
    assert result.exit_code == 0, result.output
    checked = runner.invoke(app, ["settle", str(ACME), str(xlsx), "--json"])
    assert json.loads(checked.stdout)["totals"]["total"] == 120090.49
    from kpixl.workbook.read import read_workbook

    contract, actuals, _ = read_workbook(from_xlsx)
    assert settle(contract, actuals).to_dict() == settle_json(ACME, ACME_ACTUALS)


def test_batch_takes_actuals_xlsx_beside_the_contract(tmp_path: Path) -> None:
    folder = tmp_path / "portfolio"
    folder.mkdir()
    (folder / "acme.yaml").write_bytes(ACME.read_bytes())
    write_xlsx(folder / "acme.actuals.xlsx", csv_rows(ACME_ACTUALS))
    portfolio = discover(folder)
    assert [item.actuals.name for item in portfolio.items if item.actuals] == ["acme.actuals.xlsx"]
    report = run_batch(folder, BatchOptions(tmp_path / "out", jobs=1))
    assert [r.status for r in report.results] == ["ok"]
    (folder / "acme.actuals.csv").write_bytes(ACME_ACTUALS.read_bytes())
    clash = discover(folder)
    assert any("KX901" in str(row) for r in clash.failures for row in r.errors)


def test_batch_reads_gb18030_inputs_and_register_with_encoding(tmp_path: Path) -> None:
    """`kpixl batch --encoding gb18030`: CSV inputs and a register saved by Excel on Chinese
    Windows; without the option the item fails with KX200 naming --encoding (nothing lost)."""
    data = tmp_path / "数据"
    data.mkdir()
    contract = data / SHOPEE.name
    contract.write_bytes(SHOPEE.read_bytes())
    actuals = data / "实际.csv"
    actuals.write_bytes(SHOPEE_ACTUALS.read_bytes())  # ASCII: UTF-8 whatever the option
    adjustments = data / "调整.csv"
    adjustments.write_bytes(
        "period,metric,value,reason,approved_by\n"
        '2027-05,gmv,"1,720,000,000",断货补偿,陈财务\n'.encode("gb18030")
    )
    register = tmp_path / "登记.csv"
    register.write_bytes(
        "id,contract,actuals,adjustments\n"
        f"vn,数据/{contract.name},数据/实际.csv,数据/调整.csv\n".encode("gb18030")
    )
    out = tmp_path / "out"

    unread = runner.invoke(app, ["batch", str(register), "-o", str(out)])
    assert unread.exit_code == 2
    assert "KX200 not UTF-8 text" in unread.stderr and "--encoding" in unread.stderr

    register.write_text(register.read_bytes().decode("gb18030"), encoding="utf-8")
    failed = runner.invoke(app, ["batch", str(register), "-o", str(out), "--jobs", "1"])
    assert failed.exit_code == 1
    errors = list(csv.DictReader((out / "errors.csv").read_text(encoding="utf-8").splitlines()))
    assert [(e["contract"], e["code"]) for e in errors] == [("vn", "KX200")]
    assert "--encoding" in errors[0]["message"] and not (out / "vn.xlsx").exists()

    built = runner.invoke(
        app, ["batch", str(register), "-o", str(out), "--jobs", "1", "--encoding", "gb18030"]
    )
    assert built.exit_code == 0, built.output
    summary = list(csv.DictReader((out / "summary.csv").read_text(encoding="utf-8").splitlines()))
    reference = settle_json(
        SHOPEE, SHOPEE_ACTUALS, "--adjustments", EXAMPLES / "shopee-vn-fashion.adjustments.csv"
    )
    assert [float(row["total"]) for row in summary] == [p["total"] for p in reference["periods"]]
    assert (out / "errors.csv").read_text(
        encoding="utf-8"
    ) == "contract,file,location,message,code\n"
    stamp = (out / "vn.xlsx").stat().st_mtime_ns
    again = run_batch(register, BatchOptions(out, jobs=1, encoding="gb18030"))
    assert [r.status for r in again.results] == ["skipped"]
    other = run_batch(register, BatchOptions(out, jobs=1, encoding="gb2312"))
    assert [r.status for r in other.results] == ["ok"]  # read another way: built again
    assert (out / "vn.xlsx").stat().st_mtime_ns != stamp

    unknown = runner.invoke(app, ["batch", str(register), "-o", str(out), "--encoding", "klingon"])
    assert unknown.exit_code == 2
    assert "--encoding: KX200 unknown encoding 'klingon'" in unknown.stderr
