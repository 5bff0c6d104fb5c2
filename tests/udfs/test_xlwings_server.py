"""KPIXL_* through xlwings' own Office.js custom-function code (xlwings Server / Lite path)."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
from collections.abc import Iterator
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from kpixl.engine.attainment import attainment
from kpixl.engine.pricing import list_figures
from kpixl.engine.rounding import excel_round
from kpixl.engine.scenarios import scenario_fee
from tests.engine.test_pricing import HAND_NUMBERS

FUNCTIONS = {
    "KPIXL_ATTAINMENT": ["actual", "target", "direction", "baseline", "attainment_cap"],
    "KPIXL_BASE": ["base", "person_days", "required", "decimals"],
    "KPIXL_CAP": ["amount", "period_cap", "paid_before", "contract_cap", "decimals"],
    "KPIXL_EXIT": ["weighted_attainments", "threshold", "consecutive"],
    "KPIXL_FACTOR": ["attainment", "tiers", "mode", "threshold", "factor_cap"],
    "KPIXL_GUARDRAIL": ["value", "op", "bound", "effect", "multiplier"],
    "KPIXL_LISTPRICE": [
        "role_rates",
        "headcount",
        "platform_factor",
        "markets",
        "market_surcharge",
        "category_factor",
        "integration_fee",
        "add_on_rates",
        "add_on_flags",
        "languages",
        "language_fee",
        "term_discount",
        "months",
        "decimals",
    ],
    "KPIXL_HALF": ["attainments", "which"],
    "KPIXL_NEXTSTEP": ["attainment", "breakpoints", "direction", "target", "baseline"],
    "KPIXL_PACE": ["to_date", "kind", "days_in_period", "days_elapsed"],
    "KPIXL_PAYOUT": ["pool", "weight", "factor", "decimals"],
    "KPIXL_STREAK": ["misses"],
    "KPIXL_REST": [
        "shape",
        "actual",
        "to_date",
        "days_in_period",
        "days_elapsed",
        "denominator",
        "per_day",
    ],
    "KPIXL_ROUND": ["x", "decimals"],
    "KPIXL_SCENARIO": ["base", "payouts", "period_cap", "contract_cap", "decimals", "what"],
    "KPIXL_TODATE": ["kind", "dates", "values", "first_day", "as_of"],
    "KPIXL_WEIGHTED": ["weights", "attainments"],
}


def _is_fresh(name: str) -> bool:
    return name == "xlwings" or name.startswith("xlwings.") or name == "udfs.kpixl_udfs"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    """xlwings and kpixl_udfs imported afresh with XLWINGS_ON_SERVER=true, restored after."""
    monkeypatch.setenv("XLWINGS_ON_SERVER", "true")
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    import udfs

    saved = dict(sys.modules)
    if hasattr(udfs, "kpixl_udfs"):
        monkeypatch.setattr(udfs, "kpixl_udfs", udfs.kpixl_udfs)
    for name in [name for name in sys.modules if _is_fresh(name)]:
        del sys.modules[name]
    try:
        xw = importlib.import_module("xlwings")
        yield SimpleNamespace(
            xw=xw,
            server=importlib.import_module("xlwings.server"),
            udfs=importlib.import_module("udfs.kpixl_udfs"),
        )
    finally:
        for name in [name for name in sys.modules if _is_fresh(name)]:
            del sys.modules[name]
        sys.modules.update({name: module for name, module in saved.items() if _is_fresh(name)})


def _call(server: SimpleNamespace, func_name: str, args: list[Any]) -> Any:
    payload = {
        "func_name": func_name,
        "args": args,
        "caller_address": "[quote.xlsx]Settlement!F7",
        "content_language": "en-US",
        "version": server.xw.__version__,
        "client": "Office.js",
        "runtime": "1.4",
        "culture_info_name": "en-US",
        "date_format": "M/d/yyyy",
    }
    call = server.server.custom_functions_call
    assert inspect.iscoroutinefunction(call)  # async in xlwings 0.37
    return asyncio.run(call(payload, server.udfs))


def test_decorators_are_the_server_ones(server: SimpleNamespace) -> None:
    assert server.xw.func is server.server.func
    assert server.udfs.kpixl_attainment.__xlfunc__["name"] == "kpixl_attainment"


def test_meta_lists_every_function_with_docs(server: SimpleNamespace) -> None:
    meta = server.server.custom_functions_meta(server.udfs)
    functions = {function["name"]: function for function in meta["functions"]}
    assert sorted(functions) == sorted(FUNCTIONS)
    for name, params in FUNCTIONS.items():
        function = functions[name]
        assert function["id"] == name
        assert function["description"] == getattr(server.udfs, name.lower()).__doc__
        assert [param["name"] for param in function["parameters"]] == params
        for param in function["parameters"]:
            assert not param["description"].startswith("Positional argument")
    attainment_params = functions["KPIXL_ATTAINMENT"]["parameters"]
    assert [param.get("optional", False) for param in attainment_params] == [
        False,
        False,
        True,
        True,
        True,
    ]
    assert functions["KPIXL_ROUND"]["description"].startswith("Excel-exact ROUND")
    optional = {
        name: [param.get("optional", False) for param in functions[name]["parameters"]]
        for name in ("KPIXL_LISTPRICE", "KPIXL_SCENARIO")
    }
    assert optional == {
        "KPIXL_LISTPRICE": [False] * 6 + [True] * 8,
        "KPIXL_SCENARIO": [False] * 2 + [True] * 4,
    }


def test_scalar_call(server: SimpleNamespace) -> None:
    result = _call(server, "kpixl_attainment", [[[270000]], [[240000]], [[None]], [[""]], [[""]]])
    assert result == [[attainment(270000.0, 240000.0)]] == [[1.125]]
    assert _call(server, "kpixl_round", [[[12740.485]], [[2]]]) == [[excel_round(12740.485, 2)]]
    assert _call(server, "kpixl_round", [[[1.005]], [[2]]]) == [[1.01]]


def test_range_arguments(server: SimpleNamespace) -> None:
    result = _call(server, "kpixl_attainment", [[[200000], [270000]], [[180000], [240000]]])
    assert result == [[200000 / 180000], [1.125]]
    tiers = [[0, 1.0], [1.0, 1.5], ["", ""]]
    assert _call(server, "kpixl_factor", [[[1.125]], tiers, [["marginal"]]]) == [[1.1875]]
    exit_flags = _call(server, "kpixl_exit", [[[0.5733], [0.6778], [1.3]], [[0.7]], [[2]]])
    assert exit_flags == [[False], [True], [False]]
    row = _call(server, "kpixl_weighted", [[[0.5, 0.3, 0.2]], [[1.0, 1.0, 1.0]]])
    assert row == [[1.0]]


def test_pricing_and_scenario_calls(server: SimpleNamespace) -> None:
    # Office.js sends every argument as a 2-D array: ranges as they are, scalars as [[x]].
    rates, heads = [[10000], [8000], [6000], [4500], [3000]], [[0], [1], [0], [2], [""]]
    scalars = [[[1.2]], [[3]], [[0.25]], [[1.1]], [[400]]]
    add_ons = [[[1500], [2000]], [[1], [1]]]
    rest = [[[2]], [[300]], [[0.1]]]
    listed = _call(server, "kpixl_listprice", [rates, heads, *scalars, *add_ons, *rest])
    assert listed == [[list_figures(*HAND_NUMBERS).list]] == [[34344.0]]
    quarter = _call(server, "kpixl_listprice", [rates, heads, *scalars, *add_ons, *rest, [[3]]])
    assert quarter == [[103032.0]]
    payouts = [[18375.0, 8190.0, 5600.0]]
    bonus = _call(
        server, "kpixl_scenario", [[[9000]], payouts, [[31500]], [[""]], [[2]], [["bonus"]]]
    )
    assert bonus == [[scenario_fee(9000, [18375, 8190, 5600], 31500).bonus]] == [[31500.0]]
    assert _call(server, "kpixl_scenario", [[[9000]], payouts, [[31500]]]) == [[40500.0]]


def test_error_reaches_the_server_with_a_readable_message(server: SimpleNamespace) -> None:
    # xlwings Server answers the exception with an HTTP error; its JS turns that into
    # CustomFunctions.Error(invalidValue, message): #VALUE! with the message on hover.
    with pytest.raises(server.udfs.UdfInputError, match="KPIXL_ATTAINMENT: target is 0"):
        _call(server, "kpixl_attainment", [[[1]], [[0]]])
    with pytest.raises(server.udfs.UdfInputError, match="mode must be one of"):
        _call(server, "kpixl_factor", [[[1.0]], [[0, 1]], [["curvy"]]])
    with pytest.raises(server.udfs.UdfInputError, match="KPIXL_LISTPRICE: one headcount per"):
        _call(server, "kpixl_listprice", [[[5000], [4000]], [[1]], [[1]], [[1]], [[0]], [[1]]])
    with pytest.raises(server.udfs.UdfInputError, match="KPIXL_SCENARIO: what must be one of"):
        _call(server, "kpixl_scenario", [[[9000]], [[100]], [[""]], [[""]], [[2]], [["fee"]]])


def test_modules_are_restored_after_the_server_tests() -> None:
    xw: ModuleType = importlib.import_module("xlwings")
    assert not getattr(xw, "on_server", False)
    from udfs import kpixl_udfs

    assert not hasattr(kpixl_udfs.kpixl_attainment, "__xlfunc__")
