"""The workbook's formulas, evaluated headlessly, equal the cached values and the engine."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kpixl.actuals import Actuals
from kpixl.engine.settle import settle
from kpixl.model import Contract
from kpixl.workbook.build import build_workbook
from kpixl.workbook.evaluate import evaluate_workbook
from kpixl.workbook.layout import Layout, Mode
from kpixl.workbook.template import template_schema
from kpixl.workbook.validate import validate_workbook
from tests.conftest import EVALUATIONS
from tests.workbook.contracts import case, priced_case
from udfs import kpixl_udfs

UDFS = {name.upper(): getattr(kpixl_udfs, name) for name in kpixl_udfs.__all__}
MONEY_KEYS = ("payout", "uncapped", "to_date", "paid_before", "bonus", "base", "total", "cum_bonus")


def same(found: Any, expected: Any, money: bool) -> bool:
    """Equal to the cent (money) or to 1e-9 (ratios); blanks and flags exactly."""
    if expected in (None, "") or found in (None, ""):
        return found in (None, "") and expected in (None, "")
    if isinstance(expected, bool) or isinstance(found, bool):
        return bool(found) == bool(expected) and type(found) is type(expected)
    if isinstance(expected, str) or isinstance(found, str):  # the Statement's text cells
        return bool(found == expected)
    tolerance = 0.005 if money else 1e-9 * max(1.0, abs(float(expected)))
    return abs(float(found) - float(expected)) <= tolerance


def evaluated_once(path: Path) -> dict[str, object]:
    """``evaluate_workbook(path, UDFS)``, computed once per workbook bytes in a test run.

    Several tests build the very same workbook (the parity, Review and Statement tests of one
    generated contract and mode): `formulas` takes seconds per workbook, so its evaluation of
    identical bytes is shared through a per-run folder (JSON keeps floats exactly). Every test
    still checks the values against its own expectations.
    """
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    stored = EVALUATIONS[0] / f"{digest}.json" if EVALUATIONS else None
    if stored is not None and stored.exists():
        found: dict[str, object] = json.loads(stored.read_text(encoding="utf-8"))
        return found
    evaluated = evaluate_workbook(path, UDFS)
    if stored is not None:
        stored.parent.mkdir(parents=True, exist_ok=True)
        temporary = stored.with_suffix(f".{id(evaluated)}.tmp")
        temporary.write_text(json.dumps(evaluated), encoding="utf-8")
        temporary.replace(stored)  # atomic: another worker never reads half a file
    return evaluated


def check_parity(
    contract: Contract, actuals: Actuals, adjustments: Any, mode: Mode, out: Path
) -> int:
    """Build, evaluate every formula cell, compare with cached values and the engine; cells."""
    return len(parity_values(contract, actuals, adjustments, mode, out))


def parity_values(
    contract: Contract, actuals: Actuals, adjustments: Any, mode: Mode, out: Path
) -> dict[str, object]:
    """``check_parity``, returning what the workbook's formulas evaluated to (``Sheet!A1``)."""
    build_workbook(contract, actuals, adjustments, mode=mode, out=out)
    evaluated = evaluated_once(out)
    cached = openpyxl.load_workbook(out, data_only=True)
    schema = template_schema(contract)
    formula_cells = {f"{c.sheet}!{c.ref}": c for c in schema.formula_cells()}
    assert set(evaluated) == set(formula_cells)
    for key, spec in formula_cells.items():
        money = any(spec.key.endswith(f".{m}") or f".{m}:" in spec.key for m in MONEY_KEYS)
        value = cached[spec.sheet][spec.ref].value
        assert same(evaluated[key], value, money), (key, spec.key, evaluated[key], value)
    # The cached values are the engine's numbers.
    result = settle(contract, actuals, adjustments)
    layout = Layout(contract)
    sheet = cached["Settlement"]
    for period in result.periods:
        p = period.index
        for key in ("bonus", "base", "total"):
            assert sheet[layout.s(key, p)].value == pytest.approx(getattr(period, key), abs=0.005)
        assert sheet[layout.s("exit", p)].value == float(period.exit_eligible)  # 1 / 0: ✓ / —
        assert sheet[layout.s("miss", p)].value == float(period.miss)
        for kpi in period.kpis:
            assert sheet[layout.s(f"payout:{kpi.code}", p)].value == pytest.approx(
                kpi.payout, abs=0.005
            )
            attainment = sheet[layout.s(f"attainment:{kpi.code}", p)].value
            assert attainment == pytest.approx(kpi.attainment, abs=1e-9)
    for key in ("base", "bonus", "total"):
        total = sheet[layout.total(key)].value  # type: ignore[arg-type]
        assert total == pytest.approx(getattr(result.totals, key), abs=0.005)
    return evaluated


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "udf"])
@pytest.mark.parametrize("settlement", ["period", "cumulative"])
def test_spec_example_parity(
    spec_contract: Contract, spec_actuals: Actuals, tmp_path: Path, mode: Mode, settlement: str
) -> None:
    contract = spec_contract.model_copy(update={"settlement": settlement})
    assert check_parity(contract, spec_actuals, None, mode, tmp_path / "spec.xlsx") > 200
    totals = settle(contract, spec_actuals).totals
    expected = 66990.49 if settlement == "period" else 108589.37
    assert totals.bonus == pytest.approx(expected, abs=0.005)


# Generated contracts in both formula modes, 3-7 s per workbook with `formulas`. The features
# of case(i) turn with i modulo 2 to 7: 36 cases hold every residue of each, and every
# combination of the modulo 2, 3 and 4 ones three times (the hypothesis tests of the Review,
# Statement and Pacing sheets add random contracts).
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "udf"])
@pytest.mark.parametrize("i", range(36))
def test_generated_parity(i: int, mode: Mode, tmp_path: Path) -> None:
    c = case(i)
    assert check_parity(c.contract, c.actuals, c.adjustments, mode, tmp_path / "gen.xlsx") > 20


# Priced contracts (a Quote pricing block: KPIXL_LISTPRICE and KPIXL_SCENARIO in udf mode):
# monthly and quarterly, period and cumulative, caps, min input, JPY with 0 decimals, s = 1.
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "udf"])
@pytest.mark.parametrize("i", [0, 1, 2, 3, 4, 7, 9])
def test_priced_generated_parity(i: int, mode: Mode, tmp_path: Path) -> None:
    c = priced_case(i)
    assert Layout(c.contract).priced
    out = tmp_path / "priced.xlsx"
    assert check_parity(c.contract, c.actuals, c.adjustments, mode, out) > 100
    # The fee is the quote's price, so the validator finds no KX125 (nor any other error).
    assert [i for i in validate_workbook(out) if i.severity == "error"] == []
