"""Actuals and adjustments (SPEC §4): formats accepted, every error named by period and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kpixl.actuals import (
    Actuals,
    parse_number,
    read_actuals,
    read_adjustments,
    resolve,
)
from kpixl.engine.settle import settle
from kpixl.errors import ActualsError
from kpixl.model import Contract

HEADER = "period,gmv,ad_sales,ad_spend,gross_margin,return_rate,person_days"
ROW1 = "2027-01,200000,62000,20000,0.31,0.05,22"
ROW2 = "2027-02,270000,92500,25000,0.28,0.09,20"


def write(tmp_path: Path, text: str, name: str = "a.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def refuse(contract: Contract, path: Path) -> str:
    with pytest.raises(ActualsError) as caught:
        settle(contract, read_actuals(path))
    return str(caught.value)


@pytest.mark.parametrize(
    ("cell", "value"),
    [("1,234.5", 1234.5), ("12%", 0.12), (" -3 ", -3.0), ("1e3", 1000.0), (7, 7.0),
     ("1,000,000", 1e6), ("12.5%", 0.125)],
)  # fmt: skip
def test_numbers_accept_separators_and_percent(cell: str | int, value: float) -> None:
    assert parse_number(cell) == value


@pytest.mark.parametrize("cell", ["", None, "abc", "1,23", "$5", "nan", "inf", True])
def test_numbers_refuse_anything_else(cell: str | None | bool) -> None:
    with pytest.raises(ValueError, match="empty|not a number|not a finite"):
        parse_number(cell)


def test_bom_semicolons_any_order_and_period_numbers(
    tmp_path: Path, spec_contract: Contract
) -> None:
    text = "\ufeff" + "\n".join(
        line.replace(",", ";")
        for line in [HEADER, ROW2.replace("2027-02", "2"), ROW1.replace("200000", "200,000")]
    )
    path = write(tmp_path, text.replace("200;000", "200,000"))
    result = settle(spec_contract, read_actuals(path))
    assert [p.period for p in result.periods] == ["2027-01", "2027-02"]
    assert result.periods[0].bonus == 22750.00
    assert result.periods[1].bonus == 12740.49


def test_percent_cells_and_dates_from_a_sheet(spec_contract: Contract) -> None:
    header = HEADER.split(",")
    rows = [
        [dt.datetime(2027, 1, 1), 200000, 62000, 20000, "31%", "5%", 22],
        ["2027-02", None, None, None, None, None, None],  # not known yet: not settled
    ]
    result = settle(spec_contract, Actuals.from_rows(header, rows, "book.xlsx:Actuals"))
    assert [p.period for p in result.periods] == ["2027-01"]
    assert result.periods[0].total == 31750.00


@pytest.mark.parametrize(
    ("rows", "location", "words"),
    [
        ([ROW1, ROW1], "a.csv: line 3", "period 2027-01 appears twice (also line 2)"),
        ([ROW1.replace("2027-01", "2027-07")], "a.csv: line 2", "outside the contract"),
        ([ROW1.replace("2027-01", "9")], "a.csv: line 2", "period number 9 is outside"),
        ([ROW1.replace("2027-01", "2027-Q1")], "a.csv: line 2", "outside the contract"),
        ([ROW1.replace(",62000,", ",,")], "period 2027-01, column ad_sales", "is empty"),
        ([ROW1.replace(",62000,", ",lots,")], "period 2027-01, column ad_sales", "not a number"),
        ([ROW1.replace(",20000,", ",0,")], "period 2027-01, column ad_spend", "is 0"),
        ([ROW1.replace("200000", "-5")], "period 2027-01, column gmv", "is negative"),
        ([ROW1.replace(",22", ",-1")], "period 2027-01, column person_days", "is negative"),
    ],
)
def test_bad_rows_name_the_period_and_column(
    tmp_path: Path, spec_contract: Contract, rows: list[str], location: str, words: str
) -> None:
    message = refuse(spec_contract, write(tmp_path, "\n".join([HEADER, *rows])))
    assert location in message
    assert words in message


def test_missing_column_names_who_needs_it(tmp_path: Path, spec_contract: Contract) -> None:
    path = write(tmp_path, "period,gmv,ad_sales\n2027-01,1,2\n")
    message = refuse(spec_contract, path)
    assert "a.csv: KX203 missing column 'ad_spend', needed by KPI roas" in message
    assert "missing column 'return_rate', needed by guardrails[1]" in message
    assert "missing column 'person_days', needed by min_input" in message


@pytest.mark.parametrize(
    ("text", "words"),
    [("", "empty"), ("gmv,roas\n1,2\n", "no 'period' column"),
     ("period,gmv,gmv\n2027-01,1,2\n", "columns appear twice: gmv")],
)  # fmt: skip
def test_unusable_files(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ActualsError, match=words):
        read_actuals(write(tmp_path, text))


def test_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("period,gmv\n2027-01,\xe9\n".encode("latin-1"))
    with pytest.raises(ActualsError, match="a.csv: KX200 not UTF-8"):
        read_actuals(path)


def test_cumulative_needs_every_period_so_far(tmp_path: Path, spec_contract: Contract) -> None:
    contract = spec_contract.model_copy(update={"settlement": "cumulative"})
    path = write(tmp_path, "\n".join([HEADER, ROW2]))
    with pytest.raises(ActualsError, match="missing 2027-01"):
        settle(contract, read_actuals(path))


def test_period_settlement_allows_gaps_which_break_exit_streaks(
    tmp_path: Path, spec_contract: Contract
) -> None:
    low = "2027-0{p},150000,38000,20000,0.26,0.07,20"
    path = write(tmp_path, "\n".join([HEADER, low.format(p=2), low.format(p=4), low.format(p=5)]))
    result = settle(spec_contract, read_actuals(path))
    assert [p.index for p in result.periods] == [2, 4, 5]
    assert [p.miss for p in result.periods] == [True, True, True]
    assert [p.exit_eligible for p in result.periods] == [False, False, True]


def test_adjustments_replace_values_and_keep_the_audit_trail(
    tmp_path: Path, spec_contract: Contract
) -> None:
    actuals = write(tmp_path, "\n".join([HEADER, ROW1, ROW2]))
    adjustments = write(
        tmp_path,
        "period,metric,value,reason,approved_by\n"
        "2027-02,return_rate,0.07,Carrier damage excluded (ticket 4411),CFO Li\n",
        "adj.csv",
    )
    result = settle(spec_contract, read_actuals(actuals), read_adjustments(adjustments))
    assert result.periods[1].guardrail_multiplier == 1.0
    assert result.periods[1].bonus == 25480.97
    (record,) = result.adjustments
    assert (record.period, record.metric, record.original, record.adjusted) == (
        "2027-02", "return_rate", 0.09, 0.07,
    )  # fmt: skip
    assert (record.reason, record.approved_by) == (
        "Carrier damage excluded (ticket 4411)",
        "CFO Li",
    )
    assert result.to_dict()["adjustments"][0]["approved_by"] == "CFO Li"


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("2027-02,gmv,1,,CFO", "needs a reason"),
        ("2027-02,gmv,1,why,", "needs an approver"),
        ("2027-02,visits,1,why,CFO", "column 'visits' is not in the actuals"),
        ("2027-05,gmv,1,why,CFO", "no actuals for this period"),
        ("2027-02,gmv,x,why,CFO", "not a number"),
        ("2027-13,gmv,1,why,CFO", "outside the contract"),
    ],
)
def test_bad_adjustments_are_named(
    tmp_path: Path, spec_contract: Contract, line: str, words: str
) -> None:
    actuals = write(tmp_path, "\n".join([HEADER, ROW1, ROW2]))
    adjustments = write(tmp_path, f"period,metric,value,reason,approved_by\n{line}\n", "adj.csv")
    with pytest.raises(ActualsError) as caught:
        resolve(spec_contract, read_actuals(actuals), read_adjustments(adjustments))
    assert "adj.csv: line 2" in str(caught.value)
    assert words in str(caught.value)


def test_an_adjustment_twice_is_refused(tmp_path: Path, spec_contract: Contract) -> None:
    actuals = write(tmp_path, "\n".join([HEADER, ROW1]))
    line = "2027-01,gmv,1,why,CFO"
    adjustments = write(
        tmp_path, f"period,metric,value,reason,approved_by\n{line}\n{line}\n", "j.csv"
    )
    with pytest.raises(ActualsError, match="adjusted twice"):
        resolve(spec_contract, read_actuals(actuals), read_adjustments(adjustments))


def test_adjustments_need_their_columns(tmp_path: Path) -> None:
    with pytest.raises(ActualsError, match="need the columns reason, approved_by"):
        read_adjustments(write(tmp_path, "period,metric,value\n2027-01,gmv,1\n"))
