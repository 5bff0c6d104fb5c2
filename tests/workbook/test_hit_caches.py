"""The memos that make a cache hit cheaper give what the uncached code gives, for every key.

A memo keyed on too little (a label without its language, a curve without its cap) would
hand one contract another's text; the byte-equality test of the shape cache cannot see that,
since the XlsxWriter path reads the same memo. These tests compare each memo with the code it
remembers, over several contracts and languages, in both orders.
"""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from xlsxwriter.sharedstrings import SharedStrings, SharedStringTable

from kpixl.engine import curve_words
from kpixl.engine.curve_words import curve_points, describe_curve
from kpixl.workbook import per_schema, shape, template
from kpixl.workbook.build import _text_width
from kpixl.workbook.layout import Layout
from kpixl.workbook.template import fixed_label, template_schema
from tests.strategies import build, contract_data
from tests.workbook.contracts import case

LANGS = ("en", "zh", "both")


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)))
def test_text_width_counts_wide_characters_twice(text: str) -> None:
    assert _text_width(text) == sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


def _labels(contract_index: int, lang: str) -> dict[str, str | None]:
    contract = case(contract_index).contract
    schema = template_schema(contract, "both")
    layout = Layout(contract)
    return {
        spec.key: fixed_label(spec.key, layout, lang)  # type: ignore[arg-type]
        for spec in schema.cells
        if spec.role == "label"
    }


def test_labels_remembered_are_those_of_their_language_and_contract() -> None:
    fresh = {}
    for i in (0, 1):
        for lang in LANGS:
            template._plain_label.cache_clear()
            fresh[i, lang] = _labels(i, lang)
    # Every language and contract after the others, with the memo warm.
    for order in (LANGS, tuple(reversed(LANGS))):
        for i in (1, 0):
            for lang in order:
                assert _labels(i, lang) == fresh[i, lang]
    assert fresh[0, "en"] != fresh[0, "zh"]
    english = fresh[0, "en"]
    assert english["label.fee_structure"] != fresh[0, "zh"]["label.fee_structure"]
    # Labels that name a KPI follow the contract's KPIs, not the first contract seen.
    contract = case(0).contract
    renamed = contract.model_copy(
        update={"kpis": tuple(k.model_copy(update={"code": f"z{k.code}"}) for k in contract.kpis)}
    )
    layout = Layout(renamed)
    key = "label.scenario_kpi[0].factor"
    assert english[key] is not None
    code = contract.kpis[0].code
    assert english[key] == fixed_label(key, Layout(contract), "en")
    assert fixed_label(key, layout, "en") == f"z{english[key]}"
    assert str(english[key]).startswith(code)


@settings(max_examples=40, deadline=None)
@given(st.lists(contract_data(), min_size=2, max_size=4))
def test_curve_points_and_words_follow_every_curve(datas: list[dict]) -> None:
    contracts = [build(data) for data in datas]
    kpis = [kpi for contract in contracts for kpi in contract.kpis]
    # Variants that differ in one field only: threshold, caps.
    variants = []
    for kpi in kpis:
        variants.append(kpi.model_copy(update={"factor_cap": 1.25}))
        variants.append(kpi.model_copy(update={"threshold": 0.9}))
        variants.append(kpi.model_copy(update={"attainment_cap": 1.3}))
    for kpi in [*kpis, *variants, *kpis]:
        assert curve_points(kpi) == curve_words._curve_points(kpi)
        for lang in ("en", "zh"):
            assert describe_curve(kpi, lang) == curve_words._describe_curve(kpi, lang)


def _xlsxwriter_strings(strings: list[str], count: int) -> str:
    table = SharedStringTable()
    for text in strings:
        table._get_shared_string_index(text)
    table.count = count
    table._sort_string_data()
    writer = SharedStrings()
    writer.string_table = table
    fh = io.StringIO()
    writer._set_filehandle(fh)
    writer._assemble_xml_file()
    return fh.getvalue()


@given(st.lists(st.text(max_size=12), min_size=1, max_size=8, unique=True))
def test_shared_strings_remembered_are_xlsxwriters(strings: list[str]) -> None:
    special = ["  padded ", "_x0041_", "\x01ctl", "<r>rich</r>", "a & <b>", "客户"]
    for texts in (strings + special, special + strings, strings):
        unique = list(dict.fromkeys(texts))
        recording = shape._Recording()
        for text in texts:
            recording.strings._get_shared_string_index(text)
        assert shape._shared_strings(recording) == _xlsxwriter_strings(unique, len(texts))


def test_per_cells_is_keyed_on_the_very_cells() -> None:
    calls = []

    def make(tag: str) -> str:
        calls.append(tag)
        return tag

    cells = tuple(template_schema(case(0).contract).cells)
    twin = cells[:1] + cells[1:]  # equal content, another tuple
    other = tuple(template_schema(case(1).contract).cells)
    assert per_schema.per_cells(cells, "fact", lambda: make("a")) == "a"
    assert per_schema.per_cells(cells, "fact", lambda: make("b")) == "a"
    assert per_schema.per_cells(cells, "other fact", lambda: make("c")) == "c"
    assert per_schema.per_cells(other, "fact", lambda: make("d")) == "d"
    assert twin is not cells
    assert per_schema.per_cells(twin, "fact", lambda: make("e")) == "e"
    assert calls == ["a", "c", "d", "e"]
