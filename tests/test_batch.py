"""kpixl batch: end to end, resume after kill -9, isolated failures, skips, determinism, Dask."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
import yaml
from typer.testing import CliRunner

from kpixl import __version__
from kpixl.actuals import read_actuals, read_adjustments
from kpixl.batch import BatchOptions, BatchReport, discover, run_batch
from kpixl.batch.hashing import file_sha256
from kpixl.batch.item import STALL_ENV
from kpixl.batch.manifest import JOURNAL, MANIFEST, read_entries
from kpixl.cli import app
from kpixl.engine.pricing import price_contract
from kpixl.engine.rounding import excel_round
from kpixl.engine.settle import settle
from kpixl.model import contract_from_data, load_contract
from kpixl.ratecard import load_rate_card
from kpixl.workbook.validate import validate_workbook
from tests.batch_helpers import copy_examples, stamps, workbook_hashes, write_generated
from tests.engine.test_pricing import INPUTS
from tests.workbook.test_pricing_sheet import agency_card_file

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_IDS = ["acme-amz-us", "internal-team-plan", "shopee-vn-fashion", "tiktok-us-beauty"]
runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[BatchReport, Path, Path]:
    """The bundled examples built once with a local pool of two processes."""
    base = tmp_path_factory.mktemp("batch")
    portfolio = copy_examples(base / "portfolio")
    out = base / "out"
    return run_batch(portfolio, BatchOptions(out, jobs=2)), portfolio, out


def _settlement(portfolio: Path, item_id: str):  # type: ignore[no-untyped-def]
    adjustments = portfolio / f"{item_id}.adjustments.csv"
    return settle(
        load_contract(portfolio / f"{item_id}.yaml"),
        read_actuals(portfolio / f"{item_id}.actuals.csv"),
        read_adjustments(adjustments) if adjustments.exists() else None,
    )


def test_end_to_end_workbooks_validate_clean(built: tuple[BatchReport, Path, Path]) -> None:
    report, _, out = built
    assert [(r.id, r.status) for r in report.results] == [(i, "ok") for i in EXAMPLE_IDS]
    assert report.workers == 2
    for item_id in EXAMPLE_IDS:
        assert validate_workbook(out / f"{item_id}.xlsx") == []
    assert (out / "errors.csv").read_text() == "contract,file,location,message,code\n"
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []


def test_summary_equals_settle(built: tuple[BatchReport, Path, Path]) -> None:
    _, portfolio, out = built
    frame = pd.read_csv(out / "summary.csv")
    assert list(frame.columns) == [
        "contract", "currency", "period", "base", "bonus", "total", "fee_share_of_gmv",
        "exit_eligible",
    ]  # fmt: skip
    assert sorted(set(frame["contract"])) == EXAMPLE_IDS
    contracts = openpyxl.load_workbook(out / "summary.xlsx")["Contracts"]
    by_contract = {row[0]: row for row in contracts.iter_rows(min_row=2, values_only=True)}
    for item_id in EXAMPLE_IDS:
        result = _settlement(portfolio, item_id)
        rows = frame[frame["contract"] == item_id]
        assert rows["period"].tolist() == [p.period for p in result.periods]
        assert rows["base"].tolist() == [p.base for p in result.periods]
        assert rows["bonus"].tolist() == [p.bonus for p in result.periods]
        assert rows["total"].tolist() == [p.total for p in result.periods]
        assert rows["exit_eligible"].tolist() == [p.exit_eligible for p in result.periods]
        assert excel_round(rows["total"].sum(), result.decimals) == result.totals.total
        _, currency, periods, base, bonus, total, _ = by_contract[item_id]
        assert (currency, periods) == (result.currency, len(result.periods))
        assert (base, bonus, total) == (
            result.totals.base,
            result.totals.bonus,
            result.totals.total,
        )


def test_fee_share_uses_the_periods_own_adjusted_revenue(
    built: tuple[BatchReport, Path, Path],
) -> None:
    _, _, out = built
    frame = pd.read_csv(out / "summary.csv").set_index(["contract", "period"])
    # SPEC §5 worked example: period 1 total 31750.00 on a GMV of 200000.
    assert frame.loc[("acme-amz-us", "2027-01"), "fee_share_of_gmv"] == 31750.0 / 200000
    # Shopee May's GMV is replaced by an approved adjustment (1,720,000,000 VND).
    may = ("shopee-vn-fashion", "2027-05")
    total = float(frame.loc[may, "total"])  # type: ignore[arg-type]
    assert float(frame.loc[may, "fee_share_of_gmv"]) == total / 1_720_000_000  # type: ignore[arg-type]
    sheet = openpyxl.load_workbook(out / "summary.xlsx")["Periods"]
    first = next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))
    assert first[:6] == ("acme-amz-us", "USD", "2027-01", 9000, 22750, 31750)
    assert first[6] == pytest.approx(0.15875, rel=1e-15)


def test_manifest_records_input_and_output_hashes(built: tuple[BatchReport, Path, Path]) -> None:
    _, portfolio, out = built
    document = json.loads((out / MANIFEST).read_text())
    assert document["format"] == "kpixl-batch-manifest"
    assert sorted(document["items"]) == EXAMPLE_IDS
    entry = document["items"]["shopee-vn-fashion"]
    assert entry["kpixl"] == __version__
    assert entry["formulas"] == "native"
    assert entry["output"]["sha256"] == file_sha256(out / "shopee-vn-fashion.xlsx")
    for role in ("contract", "actuals", "adjustments"):
        path = Path(entry["inputs"][role]["path"])
        assert path.parent == portfolio
        assert entry["inputs"][role]["sha256"] == file_sha256(path)


def test_dask_local_cluster_equals_local_run(
    built: tuple[BatchReport, Path, Path], tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    from kpixl.batch.executors import DaskExecutor

    _, portfolio, out = built
    dask_out = tmp_path / "dask"
    executor = DaskExecutor(None, 1, processes=False)
    report = run_batch(portfolio, BatchOptions(dask_out), executor=executor)
    assert [r.status for r in report.results] == ["ok"] * len(EXAMPLE_IDS)
    assert workbook_hashes(dask_out) == workbook_hashes(out)


def test_rerun_skips_up_to_date_and_redoes_stale(tmp_path: Path) -> None:
    portfolio = copy_examples(tmp_path / "portfolio")
    out = tmp_path / "out"
    run_batch(portfolio, BatchOptions(out, jobs=1))
    before = stamps(out)
    summary = (out / "summary.csv").read_bytes()

    again = run_batch(portfolio, BatchOptions(out, jobs=1))
    assert [r.status for r in again.results] == ["skipped"] * 4
    assert stamps(out) == before
    assert (out / "summary.csv").read_bytes() == summary

    actuals = portfolio / "acme-amz-us.actuals.csv"
    actuals.write_text(actuals.read_text().replace("2027-01,200000", "2027-01,210000"))
    (out / "internal-team-plan.xlsx").unlink()
    with open(out / "tiktok-us-beauty.xlsx", "ab") as handle:
        handle.write(b"tampered")
    third = run_batch(portfolio, BatchOptions(out, jobs=1))
    assert {r.id: r.status for r in third.results} == {
        "acme-amz-us": "ok", "internal-team-plan": "ok", "shopee-vn-fashion": "skipped",
        "tiktok-us-beauty": "ok",
    }  # fmt: skip
    assert stamps(out)["shopee-vn-fashion.xlsx"] == before["shopee-vn-fashion.xlsx"]
    frame = pd.read_csv(out / "summary.csv")
    first = frame[(frame["contract"] == "acme-amz-us") & (frame["period"] == "2027-01")]
    assert first["fee_share_of_gmv"].item() == first["total"].item() / 210000

    udf = run_batch(portfolio, BatchOptions(out, jobs=1, mode="udf"))
    assert [r.status for r in udf.results] == ["ok"] * 4  # another formula mode: all stale


def test_forced_reruns_are_byte_identical(tmp_path: Path) -> None:
    portfolio = write_generated(tmp_path / "portfolio", 2)
    out = tmp_path / "out"
    first = runner.invoke(app, ["batch", str(portfolio), "-o", str(out), "--jobs", "1"])
    assert first.exit_code == 0, first.output
    hashes = workbook_hashes(out)
    assert sorted(hashes) == ["errors.csv", "gen-000.xlsx", "gen-001.xlsx", "summary.csv",
                              "summary.xlsx"]  # fmt: skip
    second = runner.invoke(app, ["batch", str(portfolio), "-o", str(out), "-j", "1", "--force"])
    assert second.exit_code == 0, second.output
    assert "│  2 │       0 │      0 │" in second.stdout  # 2 built, 0 skipped, 0 failed
    assert workbook_hashes(out) == hashes


def test_broken_contracts_are_isolated(tmp_path: Path) -> None:
    portfolio = copy_examples(tmp_path / "portfolio")
    acme = (portfolio / "acme-amz-us.yaml").read_text()
    (portfolio / "typo.yaml").write_text(acme.replace("\nfee:", "\nfees:"))
    (portfolio / "typo.actuals.csv").write_text((portfolio / "acme-amz-us.actuals.csv").read_text())
    (portfolio / "badcell.yaml").write_text(acme)
    bad = (
        (portfolio / "acme-amz-us.actuals.csv").read_text().replace("2027-02,270000", "2027-02,abc")
    )
    (portfolio / "badcell.actuals.csv").write_text(bad)
    (portfolio / "orphan.actuals.csv").write_text("period,gmv\n2027-01,1\n")
    out = tmp_path / "out"

    result = runner.invoke(app, ["batch", str(portfolio), "-o", str(out), "--jobs", "1"])

    assert result.exit_code == 1
    assert "3 contract(s) failed" in result.stderr
    with open(out / "errors.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_contract = {row["contract"]: row for row in rows}
    assert sorted(by_contract) == ["badcell", "orphan", "typo"]
    assert by_contract["badcell"]["file"] == str(portfolio / "badcell.actuals.csv")
    assert by_contract["badcell"]["location"] == "period 2027-02, column gmv"
    assert by_contract["badcell"]["code"] == "KX204"
    typo = [row for row in rows if row["contract"] == "typo"]
    assert {row["file"] for row in typo} == {str(portfolio / "typo.yaml")}
    assert {"fees", "fee"} <= {row["location"] for row in typo}  # unknown key, missing key
    assert by_contract["orphan"]["code"] == "KX902"
    written = sorted(p.stem for p in out.glob("*.xlsx") if p.name != "summary.xlsx")
    assert written == EXAMPLE_IDS
    assert sorted(json.loads((out / MANIFEST).read_text())["items"]) == EXAMPLE_IDS
    assert sorted(set(pd.read_csv(out / "summary.csv")["contract"])) == EXAMPLE_IDS


def test_resume_after_kill_9(tmp_path: Path) -> None:
    portfolio = write_generated(tmp_path / "portfolio", 5)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "kpixl", "batch", str(portfolio), "-o", str(out), "-j", "2"]
    # Items 3 and 4 stall (test hook) so the kill lands while the batch is still running.
    env = {**os.environ, STALL_ENV: "3"}
    log = tmp_path / "stderr.txt"
    with open(log, "wb") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=stderr)  # fmt: skip
    try:
        entries = _wait_for_manifest(out, 3, process, log)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the batch, its fork server and its workers
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert sorted(entries) == ["gen-000", "gen-001", "gen-002"]
    complete = stamps(out)
    assert sorted(complete) == ["gen-000.xlsx", "gen-001.xlsx", "gen-002.xlsx"]
    for name in complete:
        with zipfile.ZipFile(out / name) as archive:
            assert archive.testzip() is None
        assert file_sha256(out / name) == entries[name.removesuffix(".xlsx")]["output"]["sha256"]
    # What an interrupted write may leave behind; the rerun must clean it up.
    (out / "gen-003.xlsx.0123456789ab.tmp").write_bytes(b"partial")

    report = run_batch(portfolio, BatchOptions(out, jobs=1))

    assert {r.id: r.status for r in report.results} == {
        "gen-000": "skipped", "gen-001": "skipped", "gen-002": "skipped", "gen-003": "ok",
        "gen-004": "ok",
    }  # fmt: skip
    after = stamps(out)
    assert {name: after[name] for name in complete} == complete  # nothing complete rewritten
    assert sorted(json.loads((out / MANIFEST).read_text())["items"]) == [
        f"gen-{i:03d}" for i in range(5)
    ]
    assert not list(out.glob("*.tmp"))
    assert len(set(pd.read_csv(out / "summary.csv")["contract"])) == 5


def _wait_for_manifest(
    out: Path, count: int, process: subprocess.Popen[bytes], log: Path
) -> dict[str, dict]:  # type: ignore[type-arg]
    """Poll the manifest and its journal until they record ``count`` items."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the batch ended early ({process.returncode}): {log.read_text()}")
        items, _ = read_entries(out)
        if len(items) >= count:
            return items
        time.sleep(0.05)
    pytest.fail("the batch did not record the first items in time")


def test_kill_9_at_random_points_rebuilds_exactly_what_is_not_recorded(tmp_path: Path) -> None:
    portfolio = write_generated(tmp_path / "portfolio", 12, periods=2, kpis=2)
    ids = [f"gen-{i:03d}" for i in range(12)]
    out = tmp_path / "out"
    command = [sys.executable, "-m", "kpixl", "batch", str(portfolio), "-o", str(out), "-j", "2"]
    seed = int.from_bytes(os.urandom(4), "big")
    chance = random.Random(seed)
    finished: dict[str, tuple[int, int]] = {}  # workbook -> (inode, mtime) once recorded
    for _ in range(3):
        log = tmp_path / "stderr.txt"
        with open(log, "wb") as stderr:
            process = subprocess.Popen(command, cwd=ROOT, start_new_session=True,
                                       stdout=subprocess.DEVNULL, stderr=stderr)  # fmt: skip
        try:
            # Kill once a random number more items are recorded, a random instant later.
            goal = min(len(ids), len(read_entries(out)[0]) + chance.randint(0, 4))
            while len(read_entries(out)[0]) < goal and process.poll() is None:
                time.sleep(0.01)
            time.sleep(chance.uniform(0, 0.3))
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        recorded, _ = read_entries(out)
        now = stamps(out)
        assert {name: now[name] for name in finished} == finished, f"seed {seed}"
        for item_id, entry in recorded.items():
            assert file_sha256(out / f"{item_id}.xlsx") == entry["output"]["sha256"], seed
            finished.setdefault(f"{item_id}.xlsx", now[f"{item_id}.xlsx"])

    report = run_batch(portfolio, BatchOptions(out, jobs=1))

    recorded_ids = {name.removesuffix(".xlsx") for name in finished}
    assert {r.id: r.status for r in report.results} == {
        item: "skipped" if item in recorded_ids else "ok" for item in ids
    }, f"seed {seed}"
    after = stamps(out)
    assert {name: after[name] for name in finished} == finished, f"seed {seed}"
    assert sorted(after) == [f"{item}.xlsx" for item in ids]
    manifest = json.loads((out / MANIFEST).read_text())["items"]
    assert sorted(manifest) == ids
    assert not (out / JOURNAL).exists()
    assert not list(out.glob("*.tmp"))
    for item in ids:
        assert file_sha256(out / f"{item}.xlsx") == manifest[item]["output"]["sha256"]


def test_the_journal_is_folded_and_a_torn_last_line_ignored(tmp_path: Path) -> None:
    portfolio = write_generated(tmp_path / "portfolio", 3)
    out = tmp_path / "out"
    run_batch(portfolio, BatchOptions(out, jobs=1))
    document = json.loads((out / MANIFEST).read_text())
    entries = document["items"]
    # As a kill leaves it: gen-002 recorded only in the journal, the last line torn.
    lines = [json.dumps({"id": "gen-002", "entry": entries.pop("gen-002")}), '{"id": "gen-0']
    (out / MANIFEST).write_text(json.dumps(document))
    (out / JOURNAL).write_text("\n".join(lines))
    before = stamps(out)

    report = run_batch(portfolio, BatchOptions(out, jobs=1))

    assert [r.status for r in report.results] == ["skipped"] * 3
    assert stamps(out) == before
    assert sorted(json.loads((out / MANIFEST).read_text())["items"]) == [
        "gen-000", "gen-001", "gen-002",
    ]  # fmt: skip
    assert not (out / JOURNAL).exists()


def test_register_csv_and_xlsx(tmp_path: Path) -> None:
    data = copy_examples(tmp_path / "data")
    register = tmp_path / "registers" / "portfolio.csv"
    register.parent.mkdir()
    register.write_text(
        "id,contract,actuals,adjustments\n"
        ",../data/acme-amz-us.yaml,../data/acme-amz-us.actuals.csv,\n"
        "vn,../data/shopee-vn-fashion.yaml,../data/shopee-vn-fashion.actuals.csv,"
        "../data/shopee-vn-fashion.adjustments.csv\n"
        "ghost,../data/ghost.yaml,,\n"
        "twice,../data/tiktok-us-beauty.yaml,,\n"
        "twice,../data/internal-team-plan.yaml,,\n"
    )
    found = discover(register)
    assert [(i.id, i.contract.name, i.adjustments is not None) for i in found.items] == [
        ("acme-amz-us", "acme-amz-us.yaml", False), ("vn", "shopee-vn-fashion.yaml", True),
    ]  # fmt: skip
    assert found.items[0].contract.resolve() == data / "acme-amz-us.yaml"
    failures = {r.id: (r.errors[0].code, r.errors[0].location) for r in found.failures}
    assert failures == {"ghost": ("KX903", "line 4"), "twice": ("KX901", "lines 5, 6")}

    book_path = tmp_path / "registers" / "portfolio.xlsx"
    book = xlsxwriter.Workbook(str(book_path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Contract", "Actuals"])
    sheet.write_row(
        1, 0, ["../data/internal-team-plan.yaml", "../data/internal-team-plan.actuals.csv"]
    )
    book.close()
    (item,) = discover(book_path).items
    assert (item.id, item.actuals) == (
        "internal-team-plan",
        book_path.parent / "../data/internal-team-plan.actuals.csv",
    )


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    portfolio = write_generated(tmp_path / "portfolio", 1)
    same = runner.invoke(app, ["batch", str(portfolio), "-o", str(portfolio)])
    assert same.exit_code == 2
    assert "KX906" in same.stderr
    unknown = runner.invoke(
        app, ["batch", str(portfolio), "-o", str(tmp_path / "o"), "--executor", "yarn"]
    )
    assert unknown.exit_code == 2
    assert "unknown executor 'yarn'" in unknown.stderr
    missing = runner.invoke(app, ["batch", str(tmp_path / "nowhere"), "-o", str(tmp_path / "o")])
    assert missing.exit_code == 2
    assert "KX900" in missing.stderr


def _priced_contract_file(portfolio: Path, card: Path | None) -> None:
    """``priced``: the SPEC example with a quote section, its fee priced on ``card``."""
    data = yaml.safe_load((portfolio / "acme-amz-us.yaml").read_text("utf-8"))
    data["markets"] = ["US", "CA", "MX"]
    data["quote"] = INPUTS.model_dump(exclude={"platform", "markets"}, exclude_none=True)
    price = price_contract(load_rate_card(card), contract_from_data(data, "priced.yaml"))
    data["fee"] |= {"base": price.base, "pool": price.pool, "period_cap": price.period_cap}
    (portfolio / "priced.yaml").write_text(yaml.safe_dump(data), "utf-8")
    shutil.copy(portfolio / "acme-amz-us.actuals.csv", portfolio / "priced.actuals.csv")


def test_a_rate_card_for_the_whole_portfolio(tmp_path: Path) -> None:
    portfolio = copy_examples(tmp_path / "portfolio")
    card = agency_card_file(tmp_path)
    _priced_contract_file(portfolio, card)
    out = tmp_path / "out"
    report = run_batch(portfolio, BatchOptions(out, jobs=1, rate_card=card))
    assert [r.status for r in report.results] == ["ok"] * 5
    assert validate_workbook(out / "priced.xlsx") == []
    assert openpyxl.load_workbook(out / "priced.xlsx")["RateCard"]["A1"].value == (
        load_rate_card(card).name
    )
    entry = json.loads((out / MANIFEST).read_text())["items"]["priced"]
    assert entry["inputs"]["rate_card"]["sha256"] == file_sha256(card)
    again = run_batch(portfolio, BatchOptions(out, jobs=1, rate_card=card))
    assert [r.status for r in again.results] == ["skipped"] * 5

    # On the sample card the priced contract's fee contradicts its pricing block: that item
    # fails (KX125 in errors.csv) and the others are built.
    sample = run_batch(portfolio, BatchOptions(tmp_path / "sample", jobs=1))
    assert {r.id: r.status for r in sample.results}["priced"] == "failed"
    assert [r.status for r in sample.results if r.id != "priced"] == ["ok"] * 4
    with open(tmp_path / "sample" / "errors.csv", encoding="utf-8") as handle:
        errors = list(csv.DictReader(handle))
    assert {(row["contract"], row["code"]) for row in errors} == {("priced", "KX125")}
    assert not (tmp_path / "sample" / "priced.xlsx").exists()

    # A changed card makes every item stale.
    text = card.read_text("utf-8").replace("amazon: 1.3", "amazon: 1.31")
    card.write_text(text, "utf-8")
    changed = run_batch(portfolio, BatchOptions(out, jobs=1, rate_card=card))
    assert {r.id: r.status for r in changed.results} == {
        "acme-amz-us": "ok", "internal-team-plan": "ok", "priced": "failed",
        "shopee-vn-fashion": "ok", "tiktok-us-beauty": "ok",
    }  # fmt: skip


def test_a_rate_card_that_does_not_fit_stops_the_batch_before_it_starts(tmp_path: Path) -> None:
    portfolio = copy_examples(tmp_path / "portfolio")
    card = agency_card_file(tmp_path, add_ons={"content": 1000})
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["batch", str(portfolio), "-o", str(out), "-j", "1", "--rate-card", str(card)]
    )
    assert result.exit_code == 1
    assert f"{card.resolve()}:add_ons: KX127" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists() or not list(out.glob("*.xlsx"))
