"""Every bad export is an error naming file, row and column: exit 1, nothing written."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import xlsxwriter
from typer.testing import CliRunner

from kpixl.cli import app
from tests.intake import exports
from tests.workbook import hostile

runner = CliRunner()


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Path]:
    contract = tmp_path / "contract.yaml"
    contract.write_text(exports.CONTRACT_YAML, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    return {"contract": contract, "dir": tmp_path, "out": out}


def refused(setup: dict[str, Path], *sources: str, extra: tuple[str, ...] = ()) -> str:
    """Run ingest, check exit 1 and that no output file exists; return stderr."""
    out = setup["out"]
    args = ["ingest", str(setup["contract"])]
    for source in sources:
        args += ["--source", source]
    args += ["-o", str(out / "a.csv"), "--daily", str(out / "d.csv")]
    args += ["--evidence", str(out / "e.json"), *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert list(out.iterdir()) == []
    assert "Traceback" not in result.output
    return result.stderr


def business_report(setup: dict[str, Path], edit: tuple[str, str] | None = None) -> Path:
    text, _ = exports.business_report_text()
    if edit is not None:
        assert edit[0] in text
        text = text.replace(edit[0], edit[1], 1)
    path = setup["dir"] / "br.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return path


def ads(setup: dict[str, Path]) -> Path:
    path = setup["dir"] / "ads.xlsx"
    exports.write_ads_xlsx(path)
    return path


def test_an_unreadable_csv_cell_names_file_line_and_column(setup: dict[str, Path]) -> None:
    text, _ = exports.business_report_text()
    third = text.splitlines()[3].split(",")[1]  # the sales cell on line 4
    br = business_report(setup, (f"{third}", '"$12.3x"'))
    stderr = refused(setup, f"amazon-business-report={br}", f"amazon-ads-campaign={ads(setup)}")
    assert "br.csv: line 4, column 'Ordered Product Sales': KX243" in stderr
    assert "'$12.3x'" in stderr


def test_an_unreadable_xlsx_cell_names_sheet_and_cell(setup: dict[str, Path]) -> None:
    path = setup["dir"] / "ads.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Campaigns")
    sheet.write_row(0, 0, ["Date", "Spend", "7 Day Total Sales ", "Clicks", "Impressions"])
    sheet.write_row(1, 0, ["Jan 1, 2027", 10.5, 40, 3, 100])
    sheet.write_row(2, 0, ["Jan 2, 2027", "n/a", 40, 3, 100])
    workbook.close()
    br = business_report(setup)
    stderr = refused(setup, f"amazon-business-report={br}", f"amazon-ads-campaign={path}")
    assert "ads.xlsx: Campaigns!B3 (column 'Spend'): KX243 is not an amount: 'n/a'" in stderr


def test_an_unknown_date_is_kx244(setup: dict[str, Path]) -> None:
    br = business_report(setup, ("1/2/2027", "2027-13-45"))
    stderr = refused(setup, f"amazon-business-report={br}", f"amazon-ads-campaign={ads(setup)}")
    assert "br.csv: line 3, column 'Date': KX244" in stderr


def test_a_missing_column_is_kx242(setup: dict[str, Path]) -> None:
    br = business_report(setup, ("Sessions - Total", "Sessions"))
    stderr = refused(setup, f"amazon-business-report={br}", f"amazon-ads-campaign={ads(setup)}")
    assert "br.csv: line 1: KX242 missing column 'Sessions - Total'" in stderr
    assert "会话数 - 总计" in stderr  # the aliases it also looked for


def test_two_sources_of_one_column_is_kx245(setup: dict[str, Path]) -> None:
    br = business_report(setup)
    second = setup["dir"] / "br2.csv"
    second.write_bytes(br.read_bytes())
    stderr = refused(
        setup,
        f"amazon-business-report={br}",
        f"amazon-business-report={second}",
        f"amazon-ads-campaign={ads(setup)}",
    )
    assert "KX245 column 'gmv' comes from two sources" in stderr


def test_a_needed_column_no_source_gives_is_kx246(setup: dict[str, Path]) -> None:
    stderr = refused(setup, f"amazon-business-report={business_report(setup)}")
    assert "KX246 column 'ad_sales', needed by KPI roas, comes from no source" in stderr
    assert "KX246 column 'ad_spend'" in stderr


def test_an_oversized_csv_field_is_a_named_error(setup: dict[str, Path]) -> None:
    br = business_report(
        setup,
        (
            "$",
            '"' + "9" * 2_000_000 + '"$',
        ),
    )
    stderr = refused(setup, f"amazon-business-report={br}", f"amazon-ads-campaign={ads(setup)}")
    assert "br.csv: line 2: KX241 a field is longer than" in stderr


def test_a_file_that_is_not_text_is_a_named_error(setup: dict[str, Path]) -> None:
    path = setup["dir"] / "report.csv"
    path.write_bytes(bytes(range(256)) * 10)
    stderr = refused(setup, f"amazon-business-report={path}", f"amazon-ads-campaign={ads(setup)}")
    assert "report.csv: KX241 not UTF-8 text" in stderr


@pytest.mark.parametrize(
    ("make", "codes"),
    [
        (hostile.zip_bomb, ("KX7",)),
        (hostile.billion_laughs, ("KX7",)),
        (hostile.external_entity, ("KX7",)),
        (hostile.truncated, ("KX703",)),
    ],
)
def test_hostile_xlsx_exports_are_refused_by_safe_loading(
    setup: dict[str, Path], make: object, codes: tuple[str, ...]
) -> None:
    path = setup["dir"] / "ads.xlsx"
    make(path)  # type: ignore[operator]
    started = time.perf_counter()
    stderr = refused(
        setup, f"amazon-business-report={business_report(setup)}", f"amazon-ads-campaign={path}"
    )
    assert (
        time.perf_counter() - started < 30
    )  # refused without inflating (a guard, not a benchmark)
    assert any(code in stderr for code in codes), stderr


def test_a_lying_dimension_does_not_pad_the_rows(setup: dict[str, Path]) -> None:
    path = setup["dir"] / "ads.xlsx"
    hostile.lying_dimension(path)
    stderr = refused(
        setup, f"amazon-business-report={business_report(setup)}", f"amazon-ads-campaign={path}"
    )
    assert "ads.xlsx: Data!1:1: KX242 missing column 'Date'" in stderr


def test_a_bad_source_option_is_a_usage_error(setup: dict[str, Path]) -> None:
    result = runner.invoke(
        app, ["ingest", str(setup["contract"]), "--source", "no-equals-sign", "-o", "x.csv"]
    )
    assert result.exit_code == 2
    assert "MAPPING=EXPORT" in result.stderr


def test_a_bad_through_is_a_usage_error(setup: dict[str, Path]) -> None:
    result = runner.invoke(
        app,
        ["ingest", str(setup["contract"]), "--source", "a=b", "-o", "x.csv", "--through", "3/1/27"],
    )
    assert result.exit_code == 2


def test_a_through_before_the_data_is_kx247(setup: dict[str, Path]) -> None:
    stderr = refused(
        setup,
        f"amazon-business-report={business_report(setup)}",
        f"amazon-ads-campaign={ads(setup)}",
        extra=("--through", "2026-12-01"),
    )
    assert "KX247" in stderr


def test_an_existing_output_is_left_as_it_was(setup: dict[str, Path]) -> None:
    target = setup["dir"] / "keep.csv"
    target.write_text("period,gmv\n2027-01,1\n", encoding="utf-8")
    result = runner.invoke(
        app,
        ["ingest", str(setup["contract"]), "--source", f"amazon-business-report={business_report(setup)}",
         "-o", str(target)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert target.read_text(encoding="utf-8") == "period,gmv\n2027-01,1\n"


def test_an_old_xls_export_is_named(setup: dict[str, Path]) -> None:
    path = setup["dir"] / "report.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000))
    stderr = refused(setup, f"amazon-business-report={path}", f"amazon-ads-campaign={ads(setup)}")
    assert "report.xls: KX241 is an old binary .xls workbook" in stderr


def test_a_record_with_too_many_fields_is_a_named_error(setup: dict[str, Path]) -> None:
    text, _ = exports.business_report_text()
    lines = text.splitlines()
    lines[5] = lines[5] + "," * 5000
    path = setup["dir"] / "wide.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stderr = refused(setup, f"amazon-business-report={path}", f"amazon-ads-campaign={ads(setup)}")
    assert "wide.csv: line 6: KX241 has more than 4096 fields" in stderr
