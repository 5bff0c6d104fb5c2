"""An independent OOXML check (openxml-audit) of every workbook kpixl writes, both modes.

The closest thing to "Excel opens it without a repair prompt" that runs here: the Open XML
SDK's schema and semantic rules, reimplemented in pure Python. A workbook another application
saved may break a rule of its own (LibreOffice writes no theme part); ``kpixl recalc`` of such a
file must add no finding of its own.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from openxml_audit import OpenXmlValidator

from kpixl.actuals import Actuals
from kpixl.engine.commitments import commitment_rows
from kpixl.engine.comparison import compare
from kpixl.model import Contract, Fee
from kpixl.workbook.build import build_workbook
from kpixl.workbook.compare import write_comparison
from kpixl.workbook.layout import Mode
from kpixl.workbook.patch import patch_cached_values
from kpixl.workbook.recalc import recalc
from kpixl.workbook.summary import SummaryTable, write_summary_xlsx
from kpixl.workbook.template import template_schema
from tests.libreoffice import recalc_with_libreoffice
from tests.workbook.contracts import case, priced_case


def _findings(path: Path) -> list[str]:
    result = OpenXmlValidator(max_errors=0).validate(path)
    return [str(error) for error in result.errors]


@pytest.mark.parametrize("mode", ["native", "udf"])
@pytest.mark.parametrize("which", ["spec", "generated", "priced"])
def test_quote_workbooks_have_no_findings(
    mode: Mode, which: str, spec_contract: Contract, spec_actuals: Actuals, tmp_path: Path
) -> None:
    if which == "spec":
        contract, actuals, adjustments = spec_contract, spec_actuals, None
    else:
        c = case(1) if which == "generated" else priced_case(2)
        contract, actuals, adjustments = c.contract, c.actuals, c.adjustments
    path = build_workbook(contract, actuals, adjustments, mode, out=tmp_path / "quote.xlsx")
    assert _findings(path) == []
    # kpixl recalc's patched copy, and one with every formula cache replaced, too.
    assert recalc(path, tmp_path / "recalc.xlsx").ok
    assert _findings(tmp_path / "recalc.xlsx") == []
    cells = template_schema(contract).formula_cells()
    zeros = {"Settlement": {spec.ref: 0 for spec in cells if spec.sheet == "Settlement"}}
    patch_cached_values(path, tmp_path / "zeroed.xlsx", zeros, force_full_calc=True)
    assert _findings(tmp_path / "zeroed.xlsx") == []


def test_comparison_and_summary_workbooks_have_no_findings(
    spec_contract: Contract, tmp_path: Path
) -> None:
    other = spec_contract.model_copy(
        update={"id": "LOW-BASE", "fee": Fee(base=15000, pool=8000, period_cap=31500)}
    )
    quotes = [spec_contract, other]
    result = compare(quotes)
    rows = commitment_rows(quotes, result.names)
    write_comparison(result, rows, tmp_path / "compare.xlsx")
    assert _findings(tmp_path / "compare.xlsx") == []
    table = SummaryTable(
        "Summary", ("contract", "total", "share"), [["A", 1234.5, 0.25], ["B", None, 0.5]], (2, 2)
    )
    write_summary_xlsx(tmp_path / "summary.xlsx", [table])
    assert _findings(tmp_path / "summary.xlsx") == []


@pytest.mark.libreoffice
@pytest.mark.parametrize("app", ["libreoffice", "gnumeric"])
def test_recalc_of_a_foreign_file_adds_no_finding(
    app: str, spec_contract: Contract, spec_actuals: Actuals, tmp_path: Path
) -> None:
    built = build_workbook(spec_contract, spec_actuals, None, "native", out=tmp_path / "q.xlsx")
    if app == "libreoffice":
        saved = recalc_with_libreoffice(built, tmp_path / "saved")
    else:
        if shutil.which("ssconvert") is None:
            pytest.fail("Gnumeric (ssconvert) is needed: run scripts/install_libreoffice.sh")
        saved = tmp_path / "saved.xlsx"
        subprocess.run(["ssconvert", "--recalc", str(built), str(saved)], check=True, timeout=120)
    assert recalc(saved, tmp_path / "recalc.xlsx").ok
    assert set(_findings(tmp_path / "recalc.xlsx")) <= set(_findings(saved))
