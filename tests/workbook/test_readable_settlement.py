"""The Settlement sheet reads at a glance: formats, ✓ / —, frozen panes, grouped helpers."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from kpixl.actuals import Actuals
from kpixl.engine.settle import settle
from kpixl.model import Contract
from kpixl.workbook.build import build_workbook
from kpixl.workbook.layout import SETTLEMENT, Layout
from kpixl.workbook.template import CHECK, METRIC, PERCENT, money_format, settlement_groups


def test_settlement_formats_flags_panes_and_outline(
    spec_contract: Contract, spec_actuals: Actuals, tmp_path: Path
) -> None:
    out = build_workbook(spec_contract, spec_actuals, out=tmp_path / "s.xlsx")
    sheet = openpyxl.load_workbook(out, data_only=True)[SETTLEMENT]
    layout = Layout(spec_contract)
    result = settle(spec_contract, spec_actuals)
    for period in result.periods:
        p = period.index
        for key, flag in (("miss", period.miss), ("exit", period.exit_eligible)):
            cell = sheet[layout.s(key, p)]
            assert cell.value == (1 if flag else 0) and cell.number_format == CHECK
        assert sheet[layout.s("bonus", p)].number_format == money_format(2)
        assert sheet[layout.s("attainment:gmv", p)].number_format == PERCENT
        assert sheet[layout.s("x:ad_sales", p)].number_format == METRIC
    assert [p.exit_eligible for p in result.periods].count(True) == 1  # period 5: one ✓
    assert sheet.freeze_panes == "B2"
    # One <col> element may cover several columns (min..max): openpyxl keys it by the first.
    dimensions = list(sheet.column_dimensions.values())
    hidden = {c - 1 for d in dimensions if d.hidden for c in range(d.min, d.max + 1)}
    outlined = {c - 1 for d in dimensions if d.outline_level for c in range(d.min, d.max + 1)}
    grouped = {c for first, last in settlement_groups(layout) for c in range(first, last + 1)}
    assert hidden == grouped
    keys = {layout.settlement_columns[c] for c in grouped}
    assert {"p", "n", "x:gmv", "g:0", "uncapped", "paid_before", "streak"} <= keys
    visible = set(layout.settlement_columns) - keys
    assert {"period", "payout:gmv", "bonus", "base", "total", "miss", "exit"} <= visible
    assert outlined == grouped
