"""kpixl batch on a real Dask cluster: a scheduler and two workers as separate processes.

The workers run in another working directory than the client and are given no path of the
client's: every task carries its inputs' bytes and returns the workbook's bytes. The portfolio
and OUTDIR are relative paths of the client.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpixl.batch import BatchOptions, run_batch
from kpixl.batch.item import DIE_ENV
from kpixl.batch.manifest import read_entries
from kpixl.cli import app
from kpixl.workbook.validate import validate_workbook
from tests.batch_helpers import copy_examples, stamps, workbook_hashes, write_generated

pytest.importorskip("distributed")

pytestmark = pytest.mark.slow
DASK = Path(sys.executable).with_name("dask")
DOOMED = "doomed"  # the item whose worker dies (test hook in the workers' environment)
runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, processes: list[subprocess.Popen[bytes]], logs: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                text = "\n".join(p.read_text() for p in sorted(logs.glob("*.log")))
                pytest.fail(f"a Dask process ended early ({process.returncode}): {text}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail("the Dask scheduler did not start in time")


def _wait_for_workers(address: str, count: int) -> None:
    import distributed

    with distributed.Client(address, timeout="30s") as client:
        client.wait_for_workers(count, timeout=90)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scheduler and two single-threaded workers on 127.0.0.1, stopped whatever happens."""
    home = tmp_path_factory.mktemp("dask-workers")  # not the client's folder
    logs = tmp_path_factory.mktemp("dask-logs")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    # One death fails the task at once (KilledWorker) instead of retrying it on the other worker.
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0", DIE_ENV: DOOMED}
    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str, command: list[str]) -> None:
        with open(logs / f"{name}.log", "wb") as log:
            processes.append(
                subprocess.Popen(
                    command,
                    cwd=home,
                    env=env,
                    start_new_session=True,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                )  # fmt: skip
            )

    try:
        # Timeouts: should this test process die without its finally, the cluster goes too.
        start("scheduler", [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                            "--no-dashboard", "--idle-timeout", "300s"])  # fmt: skip
        _wait_for_port(port, processes, logs)
        for i in range(2):
            start(f"worker{i}", [str(DASK), "worker", address, "--host", "127.0.0.1",
                                 "--nthreads", "1", "--no-dashboard", "--death-timeout", "60",
                                 "--local-directory", str(home / f"w{i}")])  # fmt: skip
        _wait_for_workers(address, 2)
        yield f"dask://127.0.0.1:{port}"
    finally:
        _stop(processes)


def test_cluster_workbooks_equal_the_local_executors(
    cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    copy_examples(Path("portfolio"))
    write_generated(Path("portfolio"), 6, periods=4, kpis=3)
    local = runner.invoke(app, ["batch", "portfolio", "-o", "out-local", "--jobs", "1"])
    assert local.exit_code == 0, local.output
    remote = runner.invoke(app, ["batch", "portfolio", "-o", "out-dask", "--executor", cluster])
    assert remote.exit_code == 0, remote.output

    expected = workbook_hashes(Path("out-local"))
    assert len([name for name in expected if name.endswith(".xlsx")]) == 4 + 6 + 1
    assert workbook_hashes(Path("out-dask")) == expected
    assert read_entries(Path("out-dask"))[0] == read_entries(Path("out-local"))[0]
    assert not Path("out-dask", "manifest.journal").exists()
    for name in ("acme-amz-us.xlsx", "gen-005.xlsx"):
        assert [i for i in validate_workbook(Path("out-dask", name)) if i.severity == "error"] == []

    # A rerun on the cluster skips everything: nothing rewritten.
    before = stamps(Path("out-dask"))
    again = runner.invoke(app, ["batch", "portfolio", "-o", "out-dask", "--executor", cluster])
    assert again.exit_code == 0, again.output
    assert stamps(Path("out-dask")) == before


def test_a_worker_that_dies_fails_its_item_with_kx998_and_the_rerun_builds_it(
    cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    portfolio = write_generated(Path("portfolio"), 3)
    (portfolio / "gen-001.json").rename(portfolio / f"{DOOMED}.json")
    (portfolio / "gen-001.actuals.csv").rename(portfolio / f"{DOOMED}.actuals.csv")

    report = run_batch(portfolio, BatchOptions(Path("out"), executor=cluster))

    statuses = {r.id: r.status for r in report.results}
    assert statuses[DOOMED] == "failed"
    (doomed,) = [r for r in report.results if r.id == DOOMED]
    assert [e.code for e in doomed.errors] == ["KX998"]
    assert not Path("out", f"{DOOMED}.xlsx").exists()
    assert DOOMED not in read_entries(Path("out"))[0]
    # An item queued on the dying worker may be lost with it: also KX998, never anything else.
    for result in report.results:
        assert result.status == "ok" or [e.code for e in result.errors] == ["KX998"], result
    built = {r.id for r in report.results if r.status == "ok"}
    assert "gen-000" in built or "gen-002" in built
    assert set(read_entries(Path("out"))[0]) == built
    before = stamps(Path("out"))

    rerun = run_batch(portfolio, BatchOptions(Path("out"), jobs=1))

    assert {r.id: r.status for r in rerun.results} == {
        item: "skipped" if item in built else "ok" for item in ("gen-000", DOOMED, "gen-002")
    }
    after = stamps(Path("out"))
    assert {name: after[name] for name in before} == before
