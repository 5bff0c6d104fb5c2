"""The Quote sheet printed through LibreOffice: A4 portrait, at most two pages, readable text.

One soffice start converts every workbook of the module (start-ups are the expensive part).
The Quote's pages are the ones whose header names the sheet (the header is ``id ... Quote``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from kpixl.documents.pdf import run_soffice
from kpixl.model import Contract, contract_from_data
from kpixl.workbook.build import build_workbook
from tests.libreoffice import TIMEOUT_SECONDS, _write_profile, soffice_path
from tests.workbook.contracts import case

pytestmark = [pytest.mark.slow, pytest.mark.libreoffice]

A4_PORTRAIT = (595.3, 841.9)  # points


def wide_contract(spec: Contract) -> Contract:
    """Six KPIs (three curve kinds twice, Chinese names), 24 periods: the proposal's worst case."""
    data = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    kpis = []
    for copy in range(2):
        for kpi in data["kpis"]:
            kpis.append(
                {
                    **kpi,
                    "code": f"{kpi['code']}_{copy}",
                    "weight": kpi["weight"] / 2,
                    "name": f"{kpi.get('name') or kpi['code']} {copy + 1}",
                    "name_zh": f"指标{len(kpis) + 1}",
                    "definition": "Ordered product sales, all ASINs, US marketplace, before refunds"
                    " and before any promotion or coupon is deducted",
                }
            )
            kpis[-1].pop("ramp", None)
            kpis[-1].pop("target", None)
            kpis[-1]["target"] = kpi["target"] if not isinstance(kpi["target"], list) else 1
    data.update({"kpis": kpis, "periods": 24, "revenue_kpi": "gmv_0", "id": "WIDE-6"})
    return contract_from_data(data, "wide")


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Contract, Path]]:
    """Workbooks by name, each with its contract and its PDF."""
    soffice = soffice_path()
    if soffice is None or shutil.which("pdftotext") is None:
        pytest.fail("soffice and pdftotext are needed: scripts/install_libreoffice.sh")
    from kpixl.model import load_contract

    root = Path(__file__).resolve().parents[2]
    spec = load_contract(root / "workbooks/examples/acme-amz-us.yaml")
    work = tmp_path_factory.mktemp("print")
    built = {
        "spec": (spec, "native", "full"),
        "spec-client": (spec, "native", "client"),
        "spec-udf": (spec, "udf", "full"),
        "case1": (case(1).contract, "native", "full"),
        "case5": (case(5).contract, "udf", "full"),
        "wide": (wide_contract(spec), "native", "full"),
    }
    sources = []
    for name, (contract, mode, variant) in built.items():
        out = work / f"{name}.xlsx"
        build_workbook(contract, mode=mode, out=out, variant=variant)  # type: ignore[arg-type]
        sources.append(str(out))
    pdfs = work / "pdf"
    with tempfile.TemporaryDirectory(prefix="kpixl-lo-profile-") as profile:
        _write_profile(Path(profile))
        run_soffice(
            [
                soffice,
                "--headless",
                "--norestore",
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--convert-to",
                "pdf",
                "--outdir",
                str(pdfs),
                *sources,
            ],
            TIMEOUT_SECONDS,
        )
    return {name: (built[name][0], pdfs / f"{name}.pdf") for name in built}


def quote_pages(pdf: Path) -> list[tuple[str, tuple[float, float]]]:
    """Text and size of each page of the Quote sheet."""
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "999", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    sizes = [
        (float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)
    ]
    pages = []
    for number, size in enumerate(sizes, start=1):
        text = subprocess.run(
            ["pdftotext", "-layout", "-f", str(number), "-l", str(number), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        first = next((line for line in text.splitlines() if line.strip()), "")
        if first.split()[-1:] == ["Quote"]:
            pages.append((text, size))
    return pages


def pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def cjk_font() -> bool:
    """Whether a Chinese font is installed (scripts/install_libreoffice.sh --fonts)."""
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    return bool(fonts.stdout.strip())


@pytest.mark.parametrize("name", ["spec", "spec-client", "spec-udf", "case1", "case5", "wide"])
def test_quote_prints_on_at_most_two_a4_portrait_pages(
    printed: dict[str, tuple[Contract, Path]], name: str
) -> None:
    contract, pdf = printed[name]
    pages = quote_pages(pdf)
    assert 1 <= len(pages) <= 2, [text[:200] for text, _size in pages]
    for _text, (width, height) in pages:
        assert (width, height) == pytest.approx(A4_PORTRAIT, abs=1)  # portrait: height > width
    text = re.sub(r"\s+", " ", " ".join(t for t, _s in pages))
    assert contract.client in text
    assert contract.id in text
    for kpi in contract.kpis:
        assert (kpi.name or kpi.code) in text
        if kpi.name_zh and cjk_font():
            assert kpi.name_zh in text
    assert re.search(r"Page 1 of \d+", text)


def test_client_copy_prints_without_internal_sheets(
    printed: dict[str, tuple[Contract, Path]],
) -> None:
    full, client = printed["spec"][1], printed["spec-client"][1]
    text = pdf_text(client)
    assert "RateCard" not in text and "rate card" not in text.lower()
    assert "rate card" in pdf_text(full).lower()  # the agency's copy prints its rate card
