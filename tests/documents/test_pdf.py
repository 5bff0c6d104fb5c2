"""``kpixl pdf``: A4 portrait Statement pages whose text holds the period's figures."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpixl.actuals import Actuals, Adjustments, read_actuals
from kpixl.cli import app
from kpixl.engine.settle import settle
from kpixl.model import Contract, load_contract
from kpixl.workbook.build import build_workbook
from tests.conftest import EXAMPLES
from tests.workbook import hostile
from tests.workbook.contracts import case

runner = CliRunner()
SPEC = EXAMPLES / "acme-amz-us.yaml"
A4 = (595.3, 841.9)  # points, portrait


def pdf_text(path: Path) -> str:
    """pdftotext of a PDF, spaces collapsed (a label may be spread over a cell's width)."""
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return re.sub(r"[ \t]+", " ", text)


def page_sizes(path: Path) -> list[tuple[float, float]]:
    """Width and height of every page, in points (pdfinfo)."""
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "999", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return [
        (float(w), float(h)) for w, h in re.findall(r"Page +\d+ size: +([\d.]+) x ([\d.]+)", info)
    ]


def money(amount: float, decimals: int) -> str:
    """An amount as the sheets' number format shows it."""
    return f"{amount:,.{decimals}f}"


def print_pdf(workbook: Path, out: Path, *options: str) -> None:
    result = runner.invoke(app, ["pdf", str(workbook), "-o", str(out), *options])
    assert result.exit_code == 0, result.output
    assert out.is_file()


def check_statement_pdf(
    contract: Contract,
    actuals: Actuals,
    adjustments: Adjustments | None,
    workbook: Path,
    folder: Path,
) -> None:
    """The first period's Statement: 1–2 A4 portrait pages naming the client, KPIs and total."""
    result = settle(contract, actuals, adjustments)
    period = result.periods[0]  # not the default (the last settled): --period must take effect
    out = folder / f"{contract.id}-statement.pdf"
    print_pdf(workbook, out, "--sheets", "Statement", "--period", period.period)
    sizes = page_sizes(out)
    assert 1 <= len(sizes) <= 2
    assert all(
        w == pytest.approx(A4[0], abs=1) and h == pytest.approx(A4[1], abs=1) for w, h in sizes
    )
    text = pdf_text(out)
    assert money(period.total, contract.decimals) in text
    assert contract.client in text
    for kpi in contract.kpis:
        assert (kpi.name or kpi.code) in text
        if kpi.name_zh:
            assert kpi.name_zh in text
    for label in ("Statement", "结算单", "Total due", "本期应付合计", "Data source", "数据来源"):
        assert label in text
    assert period.period in text


@pytest.fixture(scope="module")
def soffice() -> None:
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        pytest.fail("LibreOffice and poppler are needed: scripts/install_libreoffice.sh --fonts")


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "udf"])
def test_spec_example_statement_pdf(soffice: None, tmp_path: Path, mode: str) -> None:
    contract = load_contract(SPEC)
    actuals = read_actuals(EXAMPLES / "acme-amz-us.actuals.csv")
    workbook = build_workbook(contract, actuals, mode=mode, out=tmp_path / "spec.xlsx")  # type: ignore[arg-type]
    check_statement_pdf(contract, actuals, None, workbook, tmp_path)
    # The default sheets, the default period (the last settled): twice, the same bytes.
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    print_pdf(workbook, first)
    print_pdf(workbook, second)
    assert first.read_bytes() == second.read_bytes()
    text = pdf_text(first)
    assert "40,500.00" in text  # 2027-06: the worked example's last total
    assert "ACME Home Goods" in text and "KPI-linked service fee quote" in text


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.parametrize("i", [1, 4, 8])
def test_generated_statement_pdf(soffice: None, tmp_path: Path, i: int) -> None:
    c = case(i)
    contract = c.contract.model_copy(update={"client": f"客户 {i} Trading Co."})
    workbook = build_workbook(contract, c.actuals, c.adjustments, out=tmp_path / "gen.xlsx")
    check_statement_pdf(contract, c.actuals, c.adjustments, workbook, tmp_path)


def test_without_soffice_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workbook = build_workbook(load_contract(SPEC), out=tmp_path / "spec.xlsx")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = runner.invoke(app, ["pdf", str(workbook), "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2
    assert "KX850" in result.output and "fonts-noto-cjk" in result.output
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.libreoffice
def test_unknown_period_or_sheet_exit_2(soffice: None, tmp_path: Path) -> None:
    workbook = build_workbook(load_contract(SPEC), out=tmp_path / "spec.xlsx")
    out = tmp_path / "x.pdf"
    bad_period = runner.invoke(app, ["pdf", str(workbook), "-o", str(out), "--period", "2031-01"])
    assert bad_period.exit_code == 2 and "KX852" in bad_period.output
    bad_sheet = runner.invoke(app, ["pdf", str(workbook), "-o", str(out), "--sheets", "Nope"])
    assert bad_sheet.exit_code == 2 and "KX851" in bad_sheet.output
    assert not out.exists()


@pytest.mark.libreoffice
@pytest.mark.parametrize("make", [hostile.billion_laughs, hostile.dde, hostile.truncated])
def test_hostile_file_refused_before_libreoffice(
    soffice: None, tmp_path: Path, make: object
) -> None:
    bad = make(tmp_path / "bad.xlsx")  # type: ignore[operator]
    out = tmp_path / "x.pdf"
    result = runner.invoke(app, ["pdf", str(bad), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "KX854" in result.output or "KX7" in result.output
    assert not out.exists()


@pytest.mark.libreoffice
@pytest.mark.slow
def test_review_pdf(soffice: None, tmp_path: Path) -> None:
    # udf mode: the printed figures are kpixl's cached values (LibreOffice has no add-in).
    contract = load_contract(SPEC)
    actuals = read_actuals(EXAMPLES / "acme-amz-us.actuals.csv")
    workbook = build_workbook(contract, actuals, mode="udf", out=tmp_path / "spec.xlsx")
    out = tmp_path / "review.pdf"
    print_pdf(workbook, out, "--sheets", "Review")
    sizes = page_sizes(out)
    assert 1 <= len(sizes) <= 2
    assert all(w == pytest.approx(A4[0], abs=1) for w, _h in sizes)
    text = pdf_text(out)
    totals = settle(contract, actuals).totals
    for label in ("Review for renewal", "续约复盘", "Total fee paid", "Longest run of misses"):
        assert label in text
    assert money(totals.total, contract.decimals) in text
    assert "KPI-linked service fee quote" not in text  # only the sheet asked for


def figure(value: float) -> str:
    """A figure as the Pacing sheet's ``#,##0.00##`` shows it: 2 to 4 decimals."""
    text = f"{value:,.4f}"
    return text[:-2] + text[-2:].rstrip("0") if text.endswith("0") else text


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "udf"])
def test_pacing_pdf_prints_the_projection_of_pasted_days(
    soffice: None, tmp_path: Path, mode: str
) -> None:
    from tests.workbook.test_pacing_daily import engine, example, example_rows, paste

    contract, settled = example()
    result = engine(tmp_path, contract, example_rows(), None, settled)
    built = build_workbook(contract, settled, mode=mode, out=tmp_path / "built.xlsx")  # type: ignore[arg-type]
    pasted = tmp_path / "pasted.xlsx"
    paste(built, pasted, contract, example_rows())
    out = tmp_path / "pacing.pdf"
    print_pdf(pasted, out, "--sheets", "Pacing")
    # One A4 landscape page: the projection, one page wide.
    assert page_sizes(out) == [pytest.approx((A4[1], A4[0]), abs=1)]
    text = pdf_text(out)
    for amount in (result.bonus, result.base, result.total, *(k.payout for k in result.kpis)):
        assert money(amount, contract.decimals) in text
    for kpi in result.kpis:
        assert figure(kpi.projected) in text, kpi.code
        assert f"{kpi.attainment:.2%}" in text
    gmv = result.kpis[0]
    assert gmv.next_step is not None and gmv.next_step.per_day is not None
    assert figure(gmv.next_step.per_day) in text  # +9,881.0526 GMV per day to reach 100 %
    assert figure(gmv.next_step.rest_of_period or 0) in text
    # Labels wrap in their cells: parts that fit on one printed line.
    for label in ("Next step", "下一档", "Per remaining", "每日需增加", "Projected total fee",
                  "预测总服务费", "OK: every pasted row is used", "2027-03-12"):  # fmt: skip
        assert label in text
    assert "2027-03-05" not in text  # the pasted rows are working data: they do not print
