"""Daily rows pasted into the Pacing sheet give what ``kpixl pace CONTRACT DAILY.csv`` gives."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpixl.actuals import Actuals, read_actuals
from kpixl.daily import read_daily, resolve_daily
from kpixl.engine.pacing import Pacing, pace
from kpixl.engine.settle import settle
from kpixl.model import Contract, load_contract
from kpixl.workbook.build import build_workbook
from kpixl.workbook.evaluate import evaluate_workbook
from kpixl.workbook.layout import Layout, Mode
from kpixl.workbook.pacing_daily import CHECKS, FLAGS, bilingual
from kpixl.workbook.pacing_paste import paste_daily
from kpixl.workbook.pacing_sheet import PACING, PacingLayout
from kpixl.workbook.patch import patch_cached_values
from kpixl.workbook.recalc import recalc
from kpixl.workbook.validate import validate_workbook
from tests.conftest import EXAMPLES
from tests.workbook.test_pacing_sheet import DAILY, UDFS, baseline_contract, close

Row = tuple[dt.date, dict[str, float | None]]


def example() -> tuple[Contract, Actuals]:
    """The example contract with a tight contract cap, January and February settled."""
    contract = load_contract(EXAMPLES / "acme-amz-us.yaml")
    contract = contract.model_copy(
        update={"fee": contract.fee.model_copy(update={"contract_cap": 40000})}
    )
    actuals = read_actuals(EXAMPLES / "acme-amz-us.actuals.csv")
    return contract, Actuals(actuals.source, actuals.columns, actuals.rows[:2])


def example_rows() -> list[Row]:
    """The bundled example's daily rows (March 1 to 12)."""
    with DAILY.open(encoding="utf-8") as handle:
        return [
            (
                dt.date.fromisoformat(line["date"]),
                {k: float(v) for k, v in line.items() if k != "date"},
            )
            for line in csv.DictReader(handle)
        ]


def whole_march() -> list[Row]:
    """31 days of March: the example's twelve days, then the same again scaled, to e = N."""
    rows = example_rows()
    out = []
    for day in range(1, 32):
        _, values = rows[(day - 1) % len(rows)]
        scale = 1 + day / 100
        out.append(
            (dt.date(2027, 3, day), {k: v if k in ("gross_margin", "return_rate", "person_days")
                                     else round(v * scale, 2) for k, v in values.items()})
        )  # fmt: skip
    return out


def quarter_rows(days: int, seed: int) -> list[Row]:
    """Days of the second quarter of ``baseline_contract``: every kind, blanks in mean columns."""
    rng = random.Random(seed)
    first = dt.date(2027, 4, 1)
    out = []
    for i in range(days):
        if i % 9 == 4:  # a day without a row: still elapsed
            continue
        values: dict[str, float | None] = {
            "orders": float(rng.randint(40, 140)),
            "ship": None if i % 5 == 2 else round(rng.uniform(2.2, 4.1), 2),
            "rating": None if i % 7 == 3 else round(rng.uniform(4.2, 4.95), 2),
            "buyers": float(rng.randint(5, 20)),
            "visits": float(rng.randint(300, 600)),
            "refunds": None if i % 4 == 1 else round(rng.uniform(0.02, 0.14), 3),
            "person_days": float(rng.choice((0, 1, 1))),
        }
        out.append((first + dt.timedelta(days=i), values))
    return out


def write_csv(path: Path, contract: Contract, rows: list[Row]) -> Path:
    """The rows as the daily CSV ``kpixl ingest --daily`` writes (blank: no figure)."""
    columns = list(contract.required_columns)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", *columns])
        for day, values in rows:
            cells = ["" if values.get(c) is None else repr(values[c]) for c in columns]
            writer.writerow([day.isoformat(), *cells])
    return path


def paste(
    src: Path, out: Path, contract: Contract, rows: list[Row], as_of: dt.date | None = None
) -> None:
    """Paste the rows into the Pacing sheet's daily block (and type the as-of date, if given)."""
    at = PacingLayout(Layout(contract))
    book = openpyxl.load_workbook(src)
    sheet = book[PACING]
    if as_of is not None:
        sheet[at.header("as_of", absolute=False)] = dt.datetime.combine(as_of, dt.time())
    for i, (day, values) in enumerate(rows):
        row = at.daily.first_day_row + 1 + i
        sheet.cell(row, 1).value = dt.datetime.combine(day, dt.time())
        for c, name in enumerate(at.daily.columns, start=2):
            sheet.cell(row, c).value = values.get(name)
    book.save(out)


def engine(tmp: Path, contract: Contract, rows: list[Row], as_of: dt.date | None,
           settled: Actuals | None) -> Pacing:  # fmt: skip
    """``kpixl pace CONTRACT DAILY.csv [--as-of] [--actuals]``: the engine on the same rows."""
    daily = resolve_daily(contract, read_daily(write_csv(tmp / "daily.csv", contract, rows)))
    earlier = None if settled is None else settle(contract, settled)
    return pace(contract, daily, as_of, earlier)


def check(contract: Contract, result: Pacing, values: dict[str, Any], pasted: bool = True) -> None:
    """Every figure of the Pacing sheet against the engine's: money to the cent, None as blank."""
    at = PacingLayout(Layout(contract))

    def get(ref: str) -> Any:
        return values.get(f"{PACING}!{ref.replace('$', '')}")

    assert get(at.header("ready")) == 1
    for key, want in (("p", result.index), ("days", result.days_in_period),
                      ("elapsed", result.days_elapsed)):  # fmt: skip
        assert get(at.header(key)) == want, key
    if pasted:
        assert get(at.daily.info("used")) == result.days_with_data
    for name, want in result.column_to_date.items():
        assert close(get(at.column_cell(name, "used")), want, False), name
    for k, kpi in enumerate(result.kpis):
        for field in ("to_date", "projected", "target", "attainment", "factor"):
            assert close(get(at.kpi_cell(k, field)), getattr(kpi, field), False), (kpi.code, field)
        assert close(get(at.kpi_cell(k, "payout")), kpi.payout, True), kpi.code
        step = kpi.next_step
        assert close(get(at.kpi_cell(k, "next")), step and step.attainment, False), kpi.code
        assert close(get(at.kpi_cell(k, "needed")), step and step.actual, False), kpi.code
        rest = None if step is None else step.rest_of_period
        assert close(get(at.kpi_cell(k, "rest")), rest, False), kpi.code
        if step is not None and step.per_day is not None:
            assert close(get(at.kpi_cell(k, "per_day")), step.per_day, False), kpi.code
    assert close(get(at.summary("m")), result.guardrail_multiplier, False)
    for key in ("bonus", "base", "total"):
        assert close(get(at.summary(key)), getattr(result, key), True), key


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "udf"])
def test_pasted_example_rows_equal_kpixl_pace(tmp_path: Path, mode: Mode) -> None:
    contract, settled = example()
    built = tmp_path / "built.xlsx"
    build_workbook(contract, settled, None, mode=mode, out=built)
    cases = (
        ("as-of blank: the last pasted day", example_rows(), None),
        ("as-of typed before the last day", example_rows(), dt.date(2027, 3, 9)),
        ("e = N", whole_march(), None),
    )
    for name, rows, as_of in cases:
        result = engine(tmp_path, contract, rows, as_of, settled)
        typed = tmp_path / f"{name}.xlsx"
        paste(built, typed, contract, rows, as_of)
        values = evaluate_workbook(typed, UDFS)
        check(contract, result, values)
        at = PacingLayout(Layout(contract))
        assert values[f"{PACING}!{at.header('check', absolute=False)}"] == bilingual(CHECKS["ok"])
    assert result.days_elapsed == result.days_in_period == 31
    assert result.bonus < result.bonus_before_caps  # the contract cap binds


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "udf"])
def test_every_column_kind_from_pasted_rows(tmp_path: Path, mode: Mode) -> None:
    """Sum, mean (with blank days), last and ratio columns; a quarter, part-way and at e = N."""
    contract = baseline_contract()
    built = tmp_path / "built.xlsx"
    build_workbook(contract, None, None, mode=mode, out=built)
    assert PacingLayout(Layout(contract)).daily.days == 92  # the third quarter has 92 days
    for days, seed in ((39, 1), (91, 2)):
        rows = quarter_rows(days, seed)
        result = engine(tmp_path, contract, rows, None, None)
        assert result.days_elapsed == days
        typed = tmp_path / f"q{days}.xlsx"
        shuffled = list(rows)
        random.Random(seed).shuffle(shuffled)  # pasted in any order
        paste(built, typed, contract, shuffled)
        check(contract, result, evaluate_workbook(typed, UDFS))
    assert [k.next_step is None or k.next_step.rest_of_period is None for k in result.kpis] == [
        True
    ] * 4  # e = N: nothing is left to do per day


def _cell(contract: Contract, values: dict[str, Any], ref: str) -> Any:
    return values.get(f"{PACING}!{ref.replace('$', '')}")


@pytest.mark.slow
def test_a_day_twice_stops_the_projection_and_validate_names_it(tmp_path: Path) -> None:
    contract, settled = example()
    at = PacingLayout(Layout(contract))
    rows = example_rows()
    built, twice = tmp_path / "built.xlsx", tmp_path / "twice.xlsx"
    build_workbook(contract, settled, None, out=built)
    paste(built, twice, contract, [*rows, rows[3]])
    values = evaluate_workbook(twice, UDFS)
    assert _cell(contract, values, at.header("check")) == bilingual(CHECKS["fix"])
    assert _cell(contract, values, at.header("ready")) == 0
    assert _cell(contract, values, at.summary("total")) in (None, "")
    assert _cell(contract, values, at.daily.info("twice")) == 2
    flag = f"{PACING}!{_check_ref(at, 3)}"
    assert values[flag] == bilingual(FLAGS["twice"])
    recalc(twice)  # the cached values (engine) agree with the formulas: no KX405
    issues = validate_workbook(twice)
    found = [(i.code, i.severity, i.location.rsplit("!", 1)[-1]) for i in issues]
    first = at.daily.first_day_row + 1
    assert found == [("KX238", "error", f"A{first + 3}"), ("KX238", "error", f"A{first + 12}")]
    assert "2027-03-04 is pasted twice (open period 2027-03)" in issues[0].message


@pytest.mark.slow
def test_a_day_outside_the_open_period_is_flagged_and_not_used(tmp_path: Path) -> None:
    contract, settled = example()
    at = PacingLayout(Layout(contract))
    feb = (dt.date(2027, 2, 27), dict(example_rows()[0][1]))
    rows = [feb, *example_rows()]
    result = engine(tmp_path, contract, rows, None, settled)  # kpixl pace ignores it too
    built, out = tmp_path / "built.xlsx", tmp_path / "outside.xlsx"
    build_workbook(contract, settled, None, out=built)
    paste(built, out, contract, rows)
    values = evaluate_workbook(out, UDFS)
    check(contract, result, values)
    assert _cell(contract, values, at.header("check")) == bilingual(CHECKS["outside"])
    assert values[f"{PACING}!{_check_ref(at, 0)}"] == bilingual(FLAGS["outside"])
    recalc(out)
    issues = validate_workbook(out)
    assert [(i.code, i.severity) for i in issues] == [("KX238", "warning")]
    assert "2027-02-27 is outside the open period 2027-03" in issues[0].message


def _check_ref(at: PacingLayout, offset: int) -> str:
    from kpixl.workbook.layout import cell

    return cell(at.daily.first_day_row + offset, at.daily.check_col)


def test_recalc_caches_pasted_rows_and_a_forged_figure_is_kx405(tmp_path: Path) -> None:
    contract, settled = example()
    at = PacingLayout(Layout(contract))
    result = engine(tmp_path, contract, example_rows(), None, settled)
    built, out = tmp_path / "built.xlsx", tmp_path / "pasted.xlsx"
    build_workbook(contract, settled, None, out=built)
    assert paste_daily(built, read_daily(DAILY), out) == 12  # what scripts/paste_daily.py does
    recalc(out)
    assert validate_workbook(out) == []
    book = openpyxl.load_workbook(out, data_only=True)
    values = {f"{PACING}!{c.coordinate}": c.value for row in book[PACING].iter_rows() for c in row}
    book.close()
    values[f"{PACING}!{at.header('as_of_used', absolute=False)}"] = None  # a datetime: skip
    check(contract, result, values)
    forged = {PACING: {at.column_cell("gmv", "used").replace("$", ""): 1.0}}
    patch_cached_values(out, out, forged)
    assert "KX405" in [i.code for i in validate_workbook(out)]


def test_typed_figures_are_used_while_no_row_is_pasted(tmp_path: Path) -> None:
    contract, settled = example()
    at = PacingLayout(Layout(contract))
    built = tmp_path / "built.xlsx"
    build_workbook(contract, settled, None, out=built)
    book = openpyxl.load_workbook(built, data_only=True)
    sheet = book[PACING]
    assert sheet[at.header("check", absolute=False)].value == bilingual(CHECKS["none"])
    header = at.daily.header_row + 1
    assert [sheet.cell(header, c + 1).value for c in range(len(at.daily.columns) + 1)] == [
        "date",
        *contract.required_columns,
    ]
    book.close()


@pytest.mark.slow
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    days=st.lists(st.integers(1, 31), min_size=1, max_size=20, unique=True),
    gmv=st.lists(st.floats(1, 50000, allow_nan=False), min_size=20, max_size=20),
    margin=st.lists(st.one_of(st.none(), st.floats(0.1, 0.4)), min_size=20, max_size=20),
    as_of_day=st.one_of(st.none(), st.integers(1, 31)),
)
def test_random_pasted_rows_equal_the_engine(
    tmp_path_factory: pytest.TempPathFactory,
    days: list[int],
    gmv: list[float],
    margin: list[float | None],
    as_of_day: int | None,
) -> None:
    contract, settled = example()
    tmp = tmp_path_factory.mktemp("random")
    base = dict(example_rows()[0][1])
    if all(margin[i] is None for i in range(len(days))):
        margin = [0.25, *margin[1:]]  # a mean column needs one value to project from
    rows = [
        (dt.date(2027, 3, d), {**base, "gmv": round(gmv[i], 2), "gross_margin": margin[i]})
        for i, d in enumerate(days)
    ]
    as_of = None if as_of_day is None else dt.date(2027, 3, max(as_of_day, min(days)))
    if as_of is not None and all(
        margin[i] is None for i, d in enumerate(days) if d <= as_of.day
    ):  # nothing to project a mean from: the engine refuses, the sheet stays blank
        as_of = None
    result = engine(tmp, contract, rows, as_of, settled)
    built = _built(tmp_path_factory, contract, settled)
    out = tmp / "random.xlsx"
    paste(built, out, contract, rows, as_of)
    check(contract, result, evaluate_workbook(out, UDFS))


_BUILT: dict[str, Path] = {}


def _built(factory: pytest.TempPathFactory, contract: Contract, settled: Actuals) -> Path:
    """One native workbook for every hypothesis example (building costs more than pasting)."""
    if "native" not in _BUILT:
        path = factory.mktemp("built") / "built.xlsx"
        build_workbook(contract, settled, None, mode="native", out=path)
        _BUILT["native"] = path
    return _BUILT["native"]


def _serial(day: dt.date) -> float:
    return float((day - dt.date(1899, 12, 30)).days)


def _typed_edits(contract: Contract, result: Pacing) -> list[dict[str, Any]]:
    """What a person types on the Pacing sheet: the as-of date and every to-date figure."""
    at = PacingLayout(Layout(contract))
    edits: list[dict[str, Any]] = [
        {"sheet": PACING, "cell": at.header("as_of", False), "value": _serial(result.as_of)},
        {"sheet": PACING, "cell": at.header("days_with_data", False), "value": 30},
    ]
    for name, value in result.column_to_date.items():
        ref = at.column_cell(name, "to_date").replace("$", "")
        edits.append({"sheet": PACING, "cell": ref, "value": value})
    return edits


def _pasted_edits(contract: Contract, rows: list[Row]) -> list[dict[str, Any]]:
    """The daily rows typed (pasted) into the block, a date into each date cell."""
    from kpixl.workbook.layout import cell

    at = PacingLayout(Layout(contract))
    edits: list[dict[str, Any]] = []
    for i, (day, values) in enumerate(rows):
        row = at.daily.first_day_row + i
        edits.append({"sheet": PACING, "cell": cell(row, 0), "value": _serial(day)})
        for c, name in enumerate(at.daily.columns, start=1):
            if values.get(name) is not None:
                edits.append({"sheet": PACING, "cell": cell(row, c), "value": values[name]})
    return edits


@pytest.mark.libreoffice
@pytest.mark.slow
def test_native_pacing_sheet_in_libreoffice_typed_and_pasted(tmp_path: Path) -> None:
    """One soffice: typed figures and pasted rows, typed through UNO as a person would."""
    from kpixl.engine.pacing import pace_to_date
    from tests.workbook.foreign import libreoffice_edit, uno_available

    if not uno_available():
        pytest.fail("LibreOffice with python3-uno is needed: run scripts/install_libreoffice.sh")
    contract, settled = example()
    quarterly = baseline_contract()
    to_date = {"orders": 2100.0, "ship": 3.4, "rating": 4.6, "buyers": 310.0,
               "visits": 12000.0, "refunds": 0.12, "person_days": 24.0}  # fmt: skip
    quarter = quarter_rows(91, 2)
    cases: dict[str, tuple[Contract, Actuals | None, Pacing, list[dict[str, Any]]]] = {}
    typed = engine(tmp_path, contract, example_rows(), None, settled)
    cases["typed-example"] = (contract, settled, typed, _typed_edits(contract, typed))
    every = pace_to_date(quarterly, dt.date(2027, 5, 9), to_date, 30)
    cases["typed-every-kind"] = (quarterly, None, every, _typed_edits(quarterly, every))
    pasted = engine(tmp_path, contract, example_rows(), None, settled)
    cases["pasted-example"] = (contract, settled, pasted, _pasted_edits(contract, example_rows()))
    march = engine(tmp_path, contract, whole_march(), None, settled)
    cases["pasted-e-n"] = (contract, settled, march, _pasted_edits(contract, whole_march()))
    mean = engine(tmp_path, quarterly, quarter, None, None)
    cases["pasted-quarter-e-n"] = (quarterly, None, mean, _pasted_edits(quarterly, quarter))
    jobs = []
    for name, (terms, actuals, _result, edits) in cases.items():
        built = build_workbook(terms, actuals, None, mode="native", out=tmp_path / f"{name}.xlsx")
        jobs.append({"src": str(built), "dst": str(tmp_path / "lo" / f"{name}.xlsx"),
                     "edits": edits})  # fmt: skip
    results = libreoffice_edit(jobs, tmp_path / "driver")
    assert [r.get("error") for r in results] == [None] * len(jobs)
    for job, (name, (terms, _actuals, result, _edits)) in zip(jobs, cases.items(), strict=True):
        book = openpyxl.load_workbook(job["dst"], data_only=True)
        values = {f"{PACING}!{c.coordinate}": c.value for r in book[PACING].iter_rows() for c in r}
        book.close()
        check(terms, result, values, pasted=name.startswith("pasted"))
        # What LibreOffice computed and stored is what kpixl recomputes: validate is clean.
        assert [i for i in validate_workbook(Path(job["dst"])) if i.severity == "error"] == [], name
