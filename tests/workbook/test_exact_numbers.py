"""Numbers cross the file boundary exactly: written with 17 digits where 16 lose one, and read
back by the headless evaluator as the double the file holds (formulas rounds to 15 decimals)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpixl.actuals import Actuals, ActualsRow
from kpixl.engine.settle import settle
from kpixl.model import contract_from_data
from kpixl.workbook.exact import number_text
from kpixl.workbook.layout import Layout, Mode
from tests.workbook.test_parity import parity_values


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_text_reads_back_as_the_same_double(number: float) -> None:
    assert float(number_text(number)) == number


def test_number_text_keeps_xlsxwriters_text_where_it_is_exact() -> None:
    assert number_text(11) == "11"
    assert number_text(0.25) == "0.25"
    assert number_text(1 / 22) == "0.045454545454545456"  # .16G gives ...4546, another double


# Pool 11 x weight 5/22 x factor 0.25 is exactly 0.625: the payout is 0.63 only when the weight
# arrives whole. 16 digits (XlsxWriter) or 15 decimals (formulas) made it 0.62.
_HALF_CENT = {
    "id": "HALF-CENT",
    "client": "Client",
    "provider": "Provider",
    "currency": "USD",
    "platform": "amazon",
    "start": "2027-01-01",
    "periods": 1,
    "settlement": "period",
    "fee": {"base": 511, "pool": 11},
    "kpis": [
        {"code": "k0", "unit": "count", "direction": "higher", "weight": 5 / 22,
         "target": 100, "metric": "m0",
         "curve": {"mode": "stepped", "tiers": [{"from": 0, "rate": 0.25}]}},
        {"code": "k1", "unit": "count", "direction": "higher", "weight": 17 / 22,
         "target": 100, "metric": "m1", "threshold": 0.5},
    ],
}  # fmt: skip


@pytest.mark.parametrize("mode", ["native", "udf"])
def test_a_half_cent_payout_is_the_engines(mode: Mode, tmp_path: Path) -> None:
    contract = contract_from_data(_HALF_CENT)
    actuals = Actuals(
        source="half-cent.csv",
        columns=("m0", "m1"),
        rows=(ActualsRow(line=2, period=1, cells={"m0": 10, "m1": 10}),),
    )
    period = settle(contract, actuals, None).periods[0]
    assert (period.kpis[0].payout, period.bonus) == (0.63, 0.63)
    out = tmp_path / f"{mode}.xlsx"
    values = parity_values(contract, actuals, None, mode, out)
    assert values[f"Settlement!{Layout(contract).s('bonus', 1)}"] == 0.63
