"""KPIXL_* called as plain Python functions (what xw.func leaves off Windows) equal the engine."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from kpixl.engine.attainment import attainment, weighted_attainment
from kpixl.engine.curves import factor
from kpixl.engine.exit_clause import exit_status
from kpixl.engine.money import apply_caps, guardrail_multiplier, payout, prorated_base
from kpixl.engine.pricing import list_figures, price_quote
from kpixl.engine.rounding import excel_round
from kpixl.engine.scenarios import scenario_fee
from kpixl.ratecard import rate_card_from_data
from tests.engine.test_pricing import CARD_DATA, HAND_NUMBERS, INPUTS
from udfs import install
from udfs import kpixl_udfs as udf
from udfs.kpixl_udfs import UdfInputError

GMV_TIERS = [[0.0, 1.0], [1.0, 1.5]]
ROAS_TIERS = [[0.8, 0.5], [1.0, 1.0], [1.2, 1.3]]
TACOS_POINTS = [[0.9, 0.5], [1.0, 1.0], [1.2, 1.4]]


@pytest.fixture(autouse=True)
def errors_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    """Off Windows COM the UDFs raise; pin that so the suite means the same on every OS."""
    monkeypatch.setattr(udf, "_ERRORS_AS_TEXT", False)


def test_xw_func_leaves_plain_functions_off_windows() -> None:
    assert not hasattr(udf.kpixl_attainment, "__xlfunc__")
    assert udf.kpixl_attainment.__name__ == "kpixl_attainment"


def test_spec_period_2_gmv() -> None:
    a = udf.kpixl_attainment(270000, 240000)
    assert a == 1.125 == attainment(270000.0, 240000.0)
    f = udf.kpixl_factor(a, GMV_TIERS, "marginal")
    assert f == 1.1875
    assert udf.kpixl_payout(21000, 0.5, f) == 12468.75


def test_spec_period_2_tacos_linear() -> None:
    a = udf.kpixl_attainment(25000 / 270000, 0.10, "lower")
    assert a == pytest.approx(1.0740740740740742, abs=1e-15)
    f = udf.kpixl_factor(a, TACOS_POINTS, "linear", None, 1.4)
    assert f == pytest.approx(1.148148148148148, abs=1e-12)
    assert f == factor(a, [0.9, 1.0, 1.2], [0.5, 1.0, 1.4], "linear", None, 1.4)
    assert udf.kpixl_payout(21000, 0.2, f) == 4822.22


def test_spec_period_2_roas_stepped_and_guardrails() -> None:
    assert udf.kpixl_factor(92500 / 25000 / 3.0, ROAS_TIERS, "stepped") == 1.3
    assert udf.kpixl_guardrail(0.09, "<=", 0.08, "multiplier", 0.5) == 0.5
    assert udf.kpixl_guardrail(0.28, ">=", 0.25) == 1.0
    assert udf.kpixl_guardrail(0.22, ">=", 0.25, "gate") == 0.0


def test_spec_round_half_cents() -> None:
    assert udf.kpixl_round(12740.485, 2) == 12740.49
    assert udf.kpixl_round(2.675, 2) == 2.68
    assert udf.kpixl_round(1.005, 2) == 1.01
    assert udf.kpixl_round(-1.475, 2) == -1.48
    assert udf.kpixl_round(1234.5) == 1235.0
    assert udf.kpixl_round(1234.5, -2) == 1200.0 == excel_round(1234.5, -2)


def test_spec_exit_clause() -> None:
    assert udf.kpixl_exit([0.5733, 0.6778, 1.3], 0.7, 2) == [[False, True, False]]
    column = udf.kpixl_exit([[0.5733], [0.6778], [1.3]], 0.7, 2)
    assert column == [[False], [True], [False]]
    assert [row[0] for row in column] == exit_status([0.5733, 0.6778, 1.3], 0.7, 2)[1]


def test_exit_blank_period_breaks_the_streak() -> None:
    assert udf.kpixl_exit([[0.5], [None], [0.5], [0.6]], 0.7, 2) == [
        [False],
        [False],
        [False],
        [True],
    ]


def test_weighted_spec_period_2() -> None:
    attainments = [1.125, 92500 / 25000 / 3.0, 2 - (25000 / 270000) / 0.10]
    w = udf.kpixl_weighted([[0.5, 0.3, 0.2]], [attainments])
    assert w == weighted_attainment([0.5, 0.3, 0.2], attainments)
    assert round(w, 4) == 1.1473


def test_weighted_periods_along_the_other_axis() -> None:
    periods = [[1.0, 1.2, 0.8], [0.5, 0.5, 0.5]]  # KPIs across, one period per row
    result = udf.kpixl_weighted([[0.5, 0.3, 0.2]], periods)
    expected = np.asarray(weighted_attainment([0.5, 0.3, 0.2], np.asarray(periods).T))
    assert result == [[expected[0]], [expected[1]]]
    assert expected.tolist() == pytest.approx([1.02, 0.5], abs=1e-15)
    down = udf.kpixl_weighted([[0.5], [0.3], [0.2]], np.asarray(periods).T.tolist())
    assert down == [[expected[0], expected[1]]]


def test_cap_and_base() -> None:
    assert udf.kpixl_cap(32165.0, 31500) == 31500.0 == apply_caps(32165.0, 31500.0)
    assert udf.kpixl_cap(5000, None, 248000, 250000) == 2000.0
    assert udf.kpixl_cap(1000.004) == 1000.0
    assert udf.kpixl_base(9000, 18, 20) == 8100.0 == prorated_base(9000, 18, 20)
    assert udf.kpixl_base(9000, 22, 20) == 9000.0
    assert udf.kpixl_base(9000) == 9000.0
    assert udf.kpixl_base(100000, 1, 3, 0) == 33333.0


def test_range_arguments_keep_their_shape() -> None:
    actual = [[200000.0], [270000.0], [330000.0]]  # a column, as xlwings passes it (ndim=2)
    result = udf.kpixl_attainment(actual, 240000)
    engine = attainment(np.asarray(actual), 240000.0)
    assert result == np.asarray(engine).tolist()
    assert np.shape(result) == (3, 1)
    row = udf.kpixl_attainment([[200000.0, 270000.0]], [[180000.0, 240000.0]])
    assert row == [[200000 / 180000, 1.125]]


def test_factor_and_payout_over_ranges() -> None:
    attainments = [[0.5], [1.125], [1.5]]
    factors = udf.kpixl_factor(attainments, GMV_TIERS, "marginal", 0.8)
    assert factors == [[0.0], [1.1875], [1.75]]
    payouts = udf.kpixl_payout(21000, 0.5, factors)
    assert payouts == np.asarray(payout(21000.0, 0.5, np.asarray(factors))).tolist()
    assert payouts == [[0.0], [12468.75], [18375.0]]


def test_factor_without_curve_and_blank_tier_rows() -> None:
    assert udf.kpixl_factor(1.3, None) == 1.3
    assert udf.kpixl_factor(1.3, [[None, None]], "") == 1.3
    tiers = [[0.0, 1.0], [None, None], [1.0, 1.5], ["", ""]]
    assert udf.kpixl_factor(1.125, tiers, "MARGINAL") == 1.1875


def test_guardrail_over_a_range() -> None:
    values = [[0.05], [0.09]]
    result = udf.kpixl_guardrail(values, "<=", 0.08, "multiplier", 0.5)
    assert (
        result
        == np.asarray(
            guardrail_multiplier(np.asarray(values), "<=", 0.08, "multiplier", 0.5)
        ).tolist()
    )
    assert result == [[1.0], [0.5]]


#: tests/engine/test_pricing.py's hand-computed quote as worksheet ranges: role rates and heads
#: as columns (a blank head is 0), add-on rates with 0/1 flags (the third add-on not taken).
RATES = [[10000], [8000], [6000], [4500], [3000]]
HEADS = [[None], [1], [0], [2], [""]]
ADD_ONS, FLAGS = [[1500], [2000], [999]], [[1], [1], [0]]


def test_listprice_is_the_engine_list_price() -> None:
    # list = ROUND((17000 · 1.2 · 1.5 · 1.1 + 400 + 3500 + 2 · 300) · 0.9, 2) = 34344.00
    monthly = udf.kpixl_listprice(RATES, HEADS, 1.2, 3, 0.25, 1.1, 400, ADD_ONS, FLAGS, 2, 300, 0.1)
    assert monthly == 34344.0 == list_figures(*HAND_NUMBERS).list
    card = rate_card_from_data(CARD_DATA)
    assert monthly == price_quote(card, INPUTS, "month", 2).list
    quarter = udf.kpixl_listprice(
        RATES, HEADS, 1.2, 3, 0.25, 1.1, 400, ADD_ONS, FLAGS, 2, 300, 0.1, 3, 2
    )
    assert quarter == 103032.0 == price_quote(card, INPUTS, "quarter", 2).list


def test_listprice_optional_arguments_and_orientation() -> None:
    # A row of rates against a column of heads; no integration, add-ons, languages or discount.
    assert udf.kpixl_listprice([[5000, 2500]], [[1], [2]], 1.1, 1, 0.25, 1.0) == 11000.0
    # Add-on rates without flags: none taken. Blank optional cells are their defaults.
    assert udf.kpixl_listprice(5000, 1, 1, 2, 0.25, 1, None, [[300], [400]]) == 6250.0
    assert udf.kpixl_listprice(5000, 1, 1, 2, 0.25, 1, "", "", "", "", "", "", "", "") == 6250.0
    # Excel's ROUND, half away from zero: 2.675 -> 2.68; a quarter is three rounded months.
    assert udf.kpixl_listprice(2.675, 1, 1, 1, 0, 1) == 2.68
    assert udf.kpixl_listprice(2.675, 1, 1, 1, 0, 1, months=3) == 8.04
    assert udf.kpixl_listprice(np.array([[2.675]]), 1, 1, 1, 0, 1, decimals=0) == 3.0


def test_scenario_is_the_engine_scenario_fee() -> None:
    # SPEC period 6 at its level: 18375 + 8190 + 5600 = 32165, capped at 31500; base 9000.
    payouts = [[18375.0, 8190.0, 5600.0]]
    assert udf.kpixl_scenario(9000, payouts, 31500) == 40500.0
    assert udf.kpixl_scenario(9000, payouts, 31500, None, 2, "bonus") == 31500.0
    assert udf.kpixl_scenario(9000, payouts, 31500, None, 2, "BASE") == 9000.0
    assert (
        udf.kpixl_scenario(9000, payouts, 31500)
        == scenario_fee(9000, [18375, 8190, 5600], 31500).total
    )
    # The sum of the payouts works as well as the range (the Quote sheet passes X8+AA8+AD8).
    assert udf.kpixl_scenario(9000, 18375 + 8190 + 5600, 31500, "", "", "bonus") == 31500.0
    # No period cap, and a contract cap smaller than the bonus; ROUND at each named point.
    assert udf.kpixl_scenario(9000, [[12250], [6300], [4200]], None, 20000, 2, "bonus") == 20000
    assert udf.kpixl_scenario(100.005, [[0.125, 0.2]]) == 100.34


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: udf.kpixl_attainment(1, 0), "KPIXL_ATTAINMENT: target is 0"),
        (lambda: udf.kpixl_attainment(None, 1), "actual must be a number, not a blank cell"),
        (lambda: udf.kpixl_attainment("12%", 1), "actual must be a number, not the text '12%'"),
        (lambda: udf.kpixl_attainment(True, 1), "actual must be a number"),
        (lambda: udf.kpixl_attainment(1, 2, "up"), "direction must be one of higher, lower"),
        (
            lambda: udf.kpixl_attainment([[1.0], [None]], [[1.0], [2.0]]),
            r"row 2, column 1 of the range\), not a blank cell",
        ),
        (
            lambda: udf.kpixl_attainment([[1.0], [2.0]], [[1.0], [2.0], [3.0]]),
            "same shape",
        ),
        (lambda: udf.kpixl_attainment([[1.0], [2.0]], [[1.0], [0.0]]), r"row 2, column 1"),
        (lambda: udf.kpixl_factor(1, GMV_TIERS, "curvy"), "mode must be one of stepped"),
        (lambda: udf.kpixl_factor(1, None, "stepped"), "needs at least one tier"),
        (lambda: udf.kpixl_factor(1, [[1.0, 1.0], [0.5, 2.0]], "stepped"), "ascending"),
        (lambda: udf.kpixl_factor(1, [[1.0, 1.0, 3.0]], "stepped"), "two-column"),
        (lambda: udf.kpixl_factor(1, [[1.0, None]], "stepped"), "tier rate must be a number"),
        (lambda: udf.kpixl_payout(21000, 0.5, 1, 1.5), "decimals must be a whole number"),
        (lambda: udf.kpixl_guardrail(0.1, "=>", 0.2), "op must be one of >=, >, <=, <"),
        (lambda: udf.kpixl_guardrail(0.1, None, 0.2), "op is required"),
        (lambda: udf.kpixl_guardrail(0.1, "<", 0.2, "soft"), "effect must be one of"),
        (lambda: udf.kpixl_cap([[1.0, 2.0]]), "amount must be a single cell"),
        (lambda: udf.kpixl_round("abc", 2), "x must be a number"),
        (lambda: udf.kpixl_exit([[0.5, 0.6], [0.7, 0.8]], 0.7, 2), "single row or column"),
        (lambda: udf.kpixl_exit([0.5], 0.7, 0), "consecutive must be a whole number of at least"),
        (lambda: udf.kpixl_exit([0.5], 0.7, None), "consecutive is required"),
        (lambda: udf.kpixl_weighted([[0.5, 0.5]], [[1.0, 1.0, 1.0]]), "one value per weight"),
        (lambda: udf.kpixl_base(9000, 10, 0), "required must be greater than 0"),
        (
            lambda: udf.kpixl_listprice(RATES, [[1], [2]], 1, 1, 0, 1),
            r"KPIXL_LISTPRICE: one headcount per role rate is needed \(5 rates, 2 headcounts\)",
        ),
        (
            lambda: udf.kpixl_listprice([[5000], [None]], [[1], [1]], 1, 1, 0, 1),
            r"role_rates must be a number \(row 2, column 1 of the range\), not a blank cell",
        ),
        (
            lambda: udf.kpixl_listprice(RATES, HEADS, "amazon", 1, 0, 1),
            "platform_factor must be a number, not the text 'amazon'",
        ),
        (
            lambda: udf.kpixl_listprice(RATES, HEADS, 1.2, 0, 0.25, 1),
            "markets must be a whole number of at least 1, not 0",
        ),
        (lambda: udf.kpixl_listprice(RATES, HEADS, 1, None, 0, 1), "markets is required"),
        (
            lambda: udf.kpixl_listprice(RATES, HEADS, 1, 1, 0, 1, 0, None, [[1]]),
            r"one flag per add-on rate is needed \(0 rates, 1 flags\)",
        ),
        (
            lambda: udf.kpixl_listprice(RATES, HEADS, 1, 1, 0, 1, 0, ADD_ONS, [[1], ["yes"], [0]]),
            "add_on_flags must be a number .*, not the text 'yes'",
        ),
        (
            lambda: udf.kpixl_listprice(RATES, HEADS, 1, 1, 0, 1, 0, None, None, 1.5),
            "languages must be a whole number of at least 0, not 1.5",
        ),
        (
            lambda: udf.kpixl_listprice(RATES, HEADS, 1, 1, 0, 1, 0, None, None, 0, 0, 1),
            r"the term discount must be in \[0, 1\), not 1",
        ),
        (
            lambda: udf.kpixl_listprice(RATES, HEADS, 1, 1, 0, 1, months=0),
            "months must be a whole number of at least 1",
        ),
        (
            lambda: udf.kpixl_scenario(9000, [[100.0, None]]),
            r"KPIXL_SCENARIO: payouts must be a number \(row 1, column 2 of the range\)",
        ),
        (lambda: udf.kpixl_scenario(None, 100), "base must be a number, not a blank cell"),
        (lambda: udf.kpixl_scenario(9000, 100, [[1, 2]]), "period_cap must be a single cell"),
        (
            lambda: udf.kpixl_scenario(9000, 100, None, None, 2, "fee"),
            "what must be one of total, bonus, base, not the text 'fee'",
        ),
    ],
)
def test_bad_input_is_a_readable_error(call: object, message: str) -> None:
    with pytest.raises(UdfInputError, match=message):
        call()  # type: ignore[operator]


def test_com_host_gets_error_text_instead_of_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(udf, "_ERRORS_AS_TEXT", True)
    assert (
        udf.kpixl_attainment(1, 0) == "#VALUE! KPIXL_ATTAINMENT: target is 0 or equals the baseline"
    )
    assert udf.kpixl_factor(1, None, "stepped") == (
        "#VALUE! KPIXL_FACTOR: a stepped curve needs at least one tier"
    )


def test_numpy_arrays_are_accepted_like_ranges() -> None:
    values = np.array([[1.005], [2.675]], dtype=object)
    assert udf.kpixl_round(values, 2) == [[1.01], [2.68]]


# --- the add-in installer (udfs/install.py); no real Excel is touched -----------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "win32")
    return tmp_path


def test_config_written_in_xlwings_format(home: Path) -> None:
    lines = install.write_user_config()
    conf = home / ".xlwings" / "xlwings.conf"
    assert install.user_config_path() == conf
    assert conf.read_text(encoding="utf-8").splitlines() == [
        '"UDF MODULES","kpixl_udfs"',
        f'"PYTHONPATH","{Path(udf.__file__).resolve().parent}"',
        f'"INTERPRETER_WIN","{sys.executable}"',
    ]
    assert lines[0] == f"Wrote {conf}:"


def test_config_keeps_other_settings_and_modules(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = home / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir()
    conf.write_text(
        '"LICENSE_KEY","noncommercial"\n"UDF MODULES","mymodule"\n'
        '"PYTHONPATH","C:\\work"\n"INTERPRETER_WIN","C:\\old\\python.exe"\n',
        encoding="utf-8",
    )
    install.write_user_config()
    install.write_user_config()  # a second run changes nothing
    udf_dir = Path(udf.__file__).resolve().parent
    assert conf.read_text(encoding="utf-8").splitlines() == [
        '"LICENSE_KEY","noncommercial"',
        '"UDF MODULES","mymodule;kpixl_udfs"',
        f'"PYTHONPATH","C:\\work;{udf_dir}"',
        f'"INTERPRETER_WIN","{sys.executable}"',
    ]
    monkeypatch.setattr(sys, "platform", "linux")  # status without running xlwings
    assert [line.endswith("[ok]") for line in install.addin_status()[-3:]] == [True] * 3


def test_dry_run_writes_nothing(home: Path) -> None:
    lines = install.install_addin(dry_run=True)
    assert lines[0].startswith("Would run: ") and lines[0].endswith("addin install")
    assert '  "UDF MODULES","kpixl_udfs"' in lines
    assert not (home / ".xlwings").exists()


def test_install_fails_cleanly_on_linux(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(install.AddinError, match="needs desktop Excel on Windows or macOS"):
        install.install_addin()
    assert "(the add-in needs Excel on Windows or macOS; this is linux)" in install.install_addin(
        dry_run=True
    )
    status = install.addin_status()
    assert status[0] == "xlwings COM add-in: not available on linux (Windows/macOS only)"
    assert status[2] == "  UDF MODULES: (not set) [expected kpixl_udfs]"


def test_macos_config_location(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    expected = home / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / "xlwings.conf"
    assert install.user_config_path() == expected
    assert "INTERPRETER_MAC" in install.addin_settings()


def test_config_rejects_a_quote_in_a_value() -> None:
    with pytest.raises(install.AddinError, match="cannot hold"):
        install.merge_config("", {"PYTHONPATH": 'C:\\a"b'})
