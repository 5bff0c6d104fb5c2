"""The native workbook recalculated by LibreOffice gives the engine's money to the cent."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from kpixl.actuals import Actuals
from kpixl.engine.scenarios import scenarios
from kpixl.engine.settle import settle
from kpixl.model import Contract
from kpixl.workbook.build import build_workbook
from kpixl.workbook.layout import Layout
from kpixl.workbook.patch import patch_cached_values
from kpixl.workbook.template import template_schema
from tests.libreoffice import recalc_with_libreoffice
from tests.workbook.contracts import case
from tests.workbook.test_review_sheet import assert_review

MONEY = ("uncapped", "paid_before", "bonus", "base", "total", "cum_bonus")


def check_libreoffice(
    contract: Contract, actuals: Actuals, adjustments: object, tmp_path: Path
) -> None:
    # Cached values are zeroed first, so the numbers checked can only come from LibreOffice.
    built = tmp_path / "built.xlsx"
    build_workbook(contract, actuals, adjustments, mode="native", out=built)  # type: ignore[arg-type]
    cells = template_schema(contract).formula_cells()
    zeros = {
        "Settlement": {spec.ref: 0 for spec in cells if spec.sheet == "Settlement"},
        "Quote": {spec.ref: 0 for spec in cells if spec.key.startswith("scenario[")},
        "Review": {spec.ref: 0 for spec in cells if spec.sheet == "Review"},
    }
    src = tmp_path / "src" / "native.xlsx"
    src.parent.mkdir()
    assert patch_cached_values(built, src, zeros).ok
    out = recalc_with_libreoffice(src, tmp_path / "lo")
    sheet = openpyxl.load_workbook(out, data_only=True)["Settlement"]
    layout = Layout(contract)
    result = settle(contract, actuals, adjustments)  # type: ignore[arg-type]
    for period in result.periods:
        p = period.index
        for key in ("bonus", "base", "total", "cumulative_bonus"):
            column = "cum_bonus" if key == "cumulative_bonus" else key
            assert sheet[layout.s(column, p)].value == pytest.approx(
                getattr(period, key), abs=0.005
            )
        assert sheet[layout.s("uncapped", p)].value == pytest.approx(
            period.bonus_before_caps, abs=0.005
        )
        assert bool(sheet[layout.s("exit", p)].value) is period.exit_eligible
        for kpi in period.kpis:
            assert sheet[layout.s(f"payout:{kpi.code}", p)].value == pytest.approx(
                kpi.payout, abs=0.005
            )
    for key in ("base", "bonus", "total"):
        total = sheet[layout.total(key)].value  # type: ignore[arg-type]
        assert total == pytest.approx(getattr(result.totals, key), abs=0.005)
    quote = openpyxl.load_workbook(out, data_only=True)["Quote"]
    for i, row in enumerate(scenarios(contract)):
        for key in ("base", "bonus", "total", "fixed_fee"):
            got = quote[layout.scenario(key, i)].value
            assert got == pytest.approx(getattr(row, key), abs=0.005), (i, key)
        if row.gmv is not None:
            assert quote[layout.scenario("gmv", i)].value == pytest.approx(row.gmv, rel=1e-12)
    # The Review sheet, recalculated in the same start: the engine's review of the settlement.
    review = openpyxl.load_workbook(out, data_only=True)["Review"]
    assert_review(contract, actuals, adjustments, lambda ref: review[ref].value, "libreoffice")  # type: ignore[arg-type]


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.parametrize("settlement", ["period", "cumulative"])
def test_spec_example_in_libreoffice(
    spec_contract: Contract, spec_actuals: Actuals, tmp_path: Path, settlement: str
) -> None:
    contract = spec_contract.model_copy(update={"settlement": settlement})
    check_libreoffice(contract, spec_actuals, None, tmp_path)
    # The scenario table of `kpixl scenarios workbooks/examples/acme-amz-us.yaml`.
    quote = openpyxl.load_workbook(tmp_path / "lo" / "native.xlsx", data_only=True)["Quote"]
    layout = Layout(contract)
    totals = [quote[layout.scenario("total", i)].value for i in range(6)]
    bonuses = [quote[layout.scenario("bonus", i)].value for i in range(6)]
    assert totals == [9000, 9000, 20550, 30000, 36720, 40500]
    assert bonuses == [0, 0, 11550, 21000, 27720, 31500]


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.parametrize("i", [1, 2, 3, 7, 10, 11])
def test_generated_in_libreoffice(i: int, tmp_path: Path) -> None:
    c = case(i)
    check_libreoffice(c.contract, c.actuals, c.adjustments, tmp_path)


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.parametrize("name", ["shopee-vn-fashion", "tiktok-us-beauty", "internal-team-plan"])
def test_bundled_examples_in_libreoffice(name: str, tmp_path: Path) -> None:
    # VND with adjustments, quarterly cumulative with clawback, an in-house plan with no base.
    from kpixl.actuals import read_actuals, read_adjustments
    from kpixl.model import load_contract
    from tests.conftest import EXAMPLES

    adjustments = EXAMPLES / f"{name}.adjustments.csv"
    check_libreoffice(
        load_contract(EXAMPLES / f"{name}.yaml"),
        read_actuals(EXAMPLES / f"{name}.actuals.csv"),
        read_adjustments(adjustments) if adjustments.exists() else None,
        tmp_path,
    )
