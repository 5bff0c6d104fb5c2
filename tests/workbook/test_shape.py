"""The per-shape cache writes the very bytes XlsxWriter writes, for every contract of a shape."""

from __future__ import annotations

import copy
import io
import zipfile
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpixl.workbook import shape
from kpixl.workbook.build import build_bytes
from kpixl.workbook.verify import verify_built
from tests.strategies import actuals_for, build, contract_data
from tests.workbook.contracts import case

#: Free text a contract may carry: XML specials, quotes, spaces kept at the ends, CJK, formulas.
TEXTS = st.sampled_from(
    ["Client", "A & B <Trading> \"Co\" 'x'", "  padded  ", "客户 有限公司", "=HYPERLINK(\"x\")",
     "line\nbreak", "_x0041_ literal", "Client with a much longer name that wraps on the Quote"]
)  # fmt: skip


#: Free text as wide as the generated contracts' own ("Client", "Provider", "PROP-1"): the
#: Quote's wrapped texts keep their row heights, so the contract stays within the shape.
SAME_WIDTH = {
    "client": st.sampled_from(["Client", "A&B<C>", "  Cl  ", "_x0041", '="x"(', "Co 'x'"]),
    "provider": st.sampled_from(["Provider", "P & <Co>", ' Pr"ov ', "=SUM(1)"]),
    "id": st.sampled_from(["PROP-9", "Q.27_x", "A-B.CD"]),
}


@st.composite
def same_shape(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two contracts of one shape: the second's figures and free text drawn afresh.

    A third of the pairs differ only in actuals and same-width free text (these must hit the
    cache); the others also in fees, weights, targets, KPI names and wider text (these may
    leave the shape: a chart title or a row height changes).
    """
    first = draw(contract_data())
    second = copy.deepcopy(first)
    if draw(st.integers(0, 2)) == 0:
        for key, texts in SAME_WIDTH.items():
            second[key] = draw(texts)
        return first, second
    second["id"] = draw(st.sampled_from(["PROP-2", "Q.2027-01_x", "A"]))
    second["client"], second["provider"] = draw(TEXTS), draw(TEXTS)
    second["fee"] = {key: draw(st.integers(0, 90_000)) for key in first["fee"]}
    shares = [draw(st.integers(1, 8)) for _ in second["kpis"]]
    for kpi, share in zip(second["kpis"], shares, strict=True):
        kpi["weight"] = share / sum(shares)
        kpi["target"] = draw(st.integers(10, 10_000))
        kpi["name"] = draw(TEXTS)
        for key, choices in (("threshold", [0.5, 0.7, 0.95]), ("factor_cap", [1.0, 1.7])):
            if key in kpi:
                kpi[key] = draw(st.sampled_from(choices))
    for guardrail in second.get("guardrails", ()):
        guardrail["bound"] = draw(st.integers(0, 100))
    return first, second


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pair=same_shape(),
    mode=st.sampled_from(["native", "udf"]),
    lang=st.sampled_from(["en", "zh", "both"]),
    variant=st.sampled_from(["full", "client"]),
    data=st.data(),
)
def test_a_shape_filled_with_another_contract_is_byte_identical(
    pair: tuple[dict[str, Any], dict[str, Any]], mode: Any, lang: Any, variant: Any, data: Any
) -> None:
    """The second contract, rendered into the first one's cached shape, gives build_bytes' bytes."""
    first, second = pair
    shape.clear_cache()
    a, b = build(first), build(second)
    actuals_a, actuals_b = data.draw(actuals_for(first)), data.draw(actuals_for(second))
    primed, hit = shape.shaped_build(a, actuals_a, None, mode, lang, None, variant)
    assert not hit
    assert primed.data == build_bytes(a, actuals_a, None, mode, lang, None, variant).data
    got, hit = shape.shaped_build(b, actuals_b, None, mode, lang, None, variant)
    want = build_bytes(b, actuals_b, None, mode, lang, None, variant)
    assert got.data == want.data
    assert got.cells == want.cells
    if all(second[key] == first[key] for key in first if key not in SAME_WIDTH):
        assert hit  # only actuals and same-width text changed: the shape's own contract


def test_contracts_of_one_shape_hit_the_cache_and_pass_the_check() -> None:
    """Generated contracts of one shape: every one after the first is a hit, equal and valid."""
    shape.clear_cache()
    base = case(4)
    for i, client in enumerate(["Client 4", "Other & Sons", "  客户  "]):
        contract = base.contract.model_copy(update={"client": client, "id": f"GEN-{i}"})
        built, hit = shape.shaped_build(contract, base.actuals, base.adjustments)
        assert hit == (i > 0)
        assert built.data == build_bytes(contract, base.actuals, base.adjustments).data
        assert verify_built(built, f"GEN-{i}.xlsx") == []
        with zipfile.ZipFile(io.BytesIO(built.data)) as package:
            assert escape(client.strip()) in package.read("xl/sharedStrings.xml").decode()
    assert shape.cache_stats() == {"hits": 2, "misses": 1, "shapes": 1}


@pytest.mark.parametrize("i", [1, 2, 5, 6, 7])
def test_generated_cases_are_byte_identical_through_the_cache(i: int) -> None:
    """Adjustments, quarters, ratios, formula-like text: a second pass (hits) changes no byte."""
    shape.clear_cache()
    item = case(i)
    want = build_bytes(item.contract, item.actuals, item.adjustments).data
    for _ in range(2):
        got = shape.shaped_bytes(item.contract, item.actuals, item.adjustments)
        assert got.data == want
    assert shape.cache_stats()["hits"] == 1


def test_a_contract_of_another_shape_is_a_miss() -> None:
    """A different KPI count is another shape: its own entry, never the first shape's bytes."""
    shape.clear_cache()
    one, other = case(0), case(1)  # 1 and 2 KPIs
    shape.shaped_bytes(one.contract, one.actuals, one.adjustments)
    got, hit = shape.shaped_build(other.contract, other.actuals, other.adjustments)
    assert not hit
    assert got.data == build_bytes(other.contract, other.actuals, other.adjustments).data
    assert shape.cache_stats()["shapes"] == 2
