"""The Statement sheet: every figure of every period equals the engine's settlement, to the cent.

The period is picked by setting the input cell ``KPIXL_STATEMENT_PERIOD`` and evaluating the
workbook's own formulas with `formulas` (one model load, one calculation per period); the
cached values a build writes are checked the same way for the default period.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
import schedula as sh
from formulas.tokens.operand import XlError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpixl.actuals import Actuals, Adjustments
from kpixl.engine.results import PeriodResult, Settlement
from kpixl.engine.rounding import excel_round
from kpixl.engine.settle import settle
from kpixl.model import Contract
from kpixl.workbook.build import build_bytes, build_workbook
from kpixl.workbook.evaluate import install_functions, load_model
from kpixl.workbook.layout import STATEMENT, Layout, Mode
from kpixl.workbook.pick import set_statement_period
from kpixl.workbook.recalc import recalc
from kpixl.workbook.statement import (
    NO_ADJUSTMENTS,
    NOT_SETTLED,
    PERIOD_NAME,
    SETTLED,
    TOTAL_NAME,
    StatementLayout,
)
from kpixl.workbook.validate import validate_workbook
from kpixl.workbook.verify import verify_built
from tests.strategies import actuals_for, build, contract_data
from tests.workbook.contracts import case
from tests.workbook.test_parity import UDFS

MONEY = 0.005


def statement_cell(st: StatementLayout, row: int, col: int) -> str:
    """A1 address of a Statement cell."""
    return openpyxl.utils.get_column_letter(col + 1) + str(row + 1)


def expected_figures(
    contract: Contract, result: Settlement, label: str
) -> dict[tuple[int, int], tuple[Any, bool]]:
    """The engine's figures of one period by Statement (row, col): (value, is money)."""
    layout = Layout(contract)
    st = StatementLayout(layout)
    period = next((r for r in result.periods if r.period == label), None)
    out: dict[tuple[int, int], tuple[Any, bool]] = {}
    p = contract.period_labels.index(label) + 1
    out[(st.field_row("index"), 1)] = (float(p), False)
    out[(st.field_row("status"), 1)] = (NOT_SETTLED if period is None else SETTLED, False)
    if period is None:
        for k in range(layout.k):
            for c in range(1, 6):
                out[(st.kpi_row(k), c)] = ("", False)
        out[(st.fee_row("total"), 5)] = ("", False)
        return out
    for k, kpi in enumerate(period.kpis):
        row = st.kpi_row(k)
        for c, key in enumerate(("actual", "target", "attainment", "factor", "payout"), start=1):
            out[(row, c)] = (getattr(kpi, key), key == "payout")
    out.update(_fee_figures(contract, result, period, st))
    applied = [a for a in result.adjustments if a.period == label]
    for i, record in enumerate(applied):
        row = st.adjustment_row(i)
        out[(row, 0)] = (record.metric, False)
        out[(row, 1)] = ("" if record.original is None else record.original, False)
        out[(row, 2)] = (record.adjusted, False)
        out[(row, 3)] = (record.approved_by, False)
        out[(row, 6)] = (record.reason, False)
    for i in range(len(applied), st.adjustment_count):
        out[(st.adjustment_row(i), 0)] = (NO_ADJUSTMENTS if i == 0 else "", False)
    return out


def _fee_figures(
    contract: Contract, result: Settlement, period: PeriodResult, st: StatementLayout
) -> dict[tuple[int, int], tuple[Any, bool]]:
    d = contract.decimals
    before = [r for r in result.periods if r.index <= period.index]
    fees: dict[str, Any] = {
        "m": period.guardrail_multiplier,
        "uncapped": period.bonus_before_caps,
        "bonus": period.bonus,
        "base": period.base,
        "total": period.total,
        "cum_bonus": period.cumulative_bonus,
        "cum_total": excel_round(sum(r.total for r in before), d),
    }
    if contract.settlement == "period":
        fees["capped"] = excel_round(period.bonus_before_caps - period.bonus, d)
        fees["paid_before"] = None
    else:
        earlier = [r for r in result.periods if r.index < period.index]
        fees["paid_before"] = earlier[-1].cumulative_bonus if earlier else 0.0
    out = {}
    for key, value in fees.items():
        if key in st.fee_keys and value is not None:
            out[(st.fee_row(key), 5)] = (value, key != "m")
    return out


def same(found: Any, expected: Any, money: bool) -> bool:
    """Equal to the cent (money) or to 1e-9 (ratios); text and blanks exactly."""
    if isinstance(expected, str) or isinstance(found, str) or found is None:
        return (found if found is not None else "") == expected
    tolerance = MONEY if money else 1e-9 * max(1.0, abs(float(expected)))
    return abs(float(found) - float(expected)) <= tolerance


class Picker:
    """A workbook loaded once in `formulas`, evaluated with any period in the input cell."""

    def __init__(self, path: Path) -> None:
        install_functions(UDFS)
        self.name = path.name
        self.model = load_model(path)

    def pick(self, st: StatementLayout, label: str) -> dict[tuple[int, int], Any]:
        """Every Statement value with ``label`` in the period cell, by (row, col)."""
        prefix = f"'[{self.name}]{STATEMENT.upper()}'!"
        period = prefix + st.period_ref.replace("$", "")
        solution = self.model.calculate(inputs={period: label})
        out: dict[tuple[int, int], Any] = {}
        for key, value in solution.items():
            if not key.startswith(prefix) or ":" in key:
                continue
            row, col = openpyxl.utils.cell.coordinate_to_tuple(key.removeprefix(prefix))
            raw = value.value[0][0] if hasattr(value, "value") else value
            out[(row - 1, col - 1)] = _plain(raw)
        return out


def _plain(value: Any) -> Any:
    if value is sh.EMPTY or value is None:
        return None
    if isinstance(value, XlError):
        return str(value)
    if isinstance(value, str | bool):
        return value
    return float(value)


def check_statement(
    contract: Contract, actuals: Actuals, adjustments: Adjustments | None, mode: Mode, out: Path
) -> int:
    """Build, then pick every period and compare the Statement with the engine; cells checked."""
    build_workbook(contract, actuals, adjustments, mode=mode, out=out)
    result = settle(contract, actuals, adjustments)
    st = StatementLayout(Layout(contract))
    picker = Picker(out)
    checked = 0
    for label in contract.period_labels:
        got = picker.pick(st, label)
        for (row, col), (value, money) in expected_figures(contract, result, label).items():
            found = got.get((row, col))
            assert same(found, value, money), (label, statement_cell(st, row, col), found, value)
            checked += 1
    return checked


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "udf"])
@pytest.mark.parametrize("settlement", ["period", "cumulative"])
def test_spec_example_statement(
    spec_contract: Contract, spec_actuals: Actuals, tmp_path: Path, mode: Mode, settlement: str
) -> None:
    contract = spec_contract.model_copy(update={"settlement": settlement})
    assert check_statement(contract, spec_actuals, None, mode, tmp_path / "spec.xlsx") > 100


def test_spec_example_statement_totals(
    spec_contract: Contract, spec_actuals: Actuals, tmp_path: Path
) -> None:
    """The SPEC §5 worked example's totals due, period by period (golden numbers)."""
    out = tmp_path / "spec.xlsx"
    build_workbook(spec_contract, spec_actuals, None, mode="native", out=out)
    st = StatementLayout(Layout(spec_contract))
    picker = Picker(out)
    totals = [
        picker.pick(st, label)[(st.fee_row("total"), 5)] for label in spec_contract.period_labels
    ]
    assert totals == pytest.approx([31750.00, 21740.49, 8100.00, 9000.00, 9000.00, 40500.00])
    caps = picker.pick(st, "2027-06")[(st.fee_row("capped"), 5)]
    assert caps == pytest.approx(665.00)  # 32165.00 capped to 31500.00
    cumulative = picker.pick(st, "2027-03")[(st.fee_row("cum_total"), 5)]
    assert cumulative == pytest.approx(31750.00 + 21740.49 + 8100.00)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "udf"])
@pytest.mark.parametrize("i", [0, 1, 2, 3, 4, 5, 7, 10, 11, 13])
def test_generated_statement(i: int, mode: Mode, tmp_path: Path) -> None:
    c = case(i)
    assert check_statement(c.contract, c.actuals, c.adjustments, mode, tmp_path / "gen.xlsx") > 10


@pytest.mark.slow
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), mode=st.sampled_from(["native", "udf"]))
def test_hypothesis_statement(data: st.DataObject, mode: Mode, tmp_path: Path) -> None:
    mapping = data.draw(contract_data())
    contract = build(mapping)
    actuals = data.draw(actuals_for(mapping))
    check_statement(contract, actuals, None, mode, tmp_path / f"hyp-{mode}.xlsx")


def test_default_period_is_the_last_settled(tmp_path: Path) -> None:
    c = case(0)  # the last period has no actuals yet
    built = build_bytes(c.contract, c.actuals, c.adjustments)
    st = StatementLayout(built.layout)
    period_cell = st.period_ref.replace("$", "")
    _formula, chosen = built.cells[STATEMENT][period_cell]
    assert chosen == c.contract.period_labels[-2]
    assert verify_built(built, "gen.xlsx") == []
    empty = build_bytes(c.contract)
    assert empty.cells[STATEMENT][period_cell][1] == c.contract.period_labels[0]
    assert built.schema.names[PERIOD_NAME] == f"{STATEMENT}!{st.period_ref}"
    assert TOTAL_NAME in built.schema.names


def test_picked_period_validates_and_recalcs(
    spec_contract: Contract, spec_actuals: Actuals, tmp_path: Path
) -> None:
    """A period typed into the cell: validate recomputes the Statement for it; recalc fills it."""
    out = tmp_path / "spec.xlsx"
    build_workbook(spec_contract, spec_actuals, None, out=out)
    st = StatementLayout(Layout(spec_contract))
    edited = tmp_path / "edited.xlsx"
    set_statement_period(out, edited, "2027-02")
    stale = [i for i in validate_workbook(edited) if i.code == "KX405"]
    assert stale and all(f"{STATEMENT}!" in i.location for i in stale)
    fixed = tmp_path / "fixed.xlsx"
    assert recalc(edited, fixed).ok
    assert [i for i in validate_workbook(fixed) if i.severity == "error"] == []
    total = openpyxl.load_workbook(fixed, data_only=True)[STATEMENT][
        statement_cell(st, st.fee_row("total"), 5)
    ].value
    assert total == pytest.approx(21740.49)
