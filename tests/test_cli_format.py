"""One ``--format text|json|csv`` wherever a command has machine output; aliases kept."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpixl.cli import app
from kpixl.workbook.build import build_workbook
from tests.conftest import EXAMPLES

runner = CliRunner()
CONTRACT = str(EXAMPLES / "acme-amz-us.yaml")
OTHER = str(EXAMPLES / "tiktok-us-beauty.yaml")
ACTUALS = str(EXAMPLES / "acme-amz-us.actuals.csv")
# ACME and GlowLab read different columns: they are compared on outcomes that give them all.
OUTCOMES = ["--outcomes", str(EXAMPLES / "compare-outcomes.csv")]
SCENARIOS = ["slow month", "plan", "strong", "peak"]


def test_settle_format_equals_its_aliases() -> None:
    for alias, name in (("--json", "json"), ("--csv", "csv")):
        old = runner.invoke(app, ["settle", CONTRACT, ACTUALS, alias])
        new = runner.invoke(app, ["settle", CONTRACT, ACTUALS, "--format", name])
        assert old.exit_code == new.exit_code == 0
        assert old.stdout == new.stdout


def test_two_formats_are_a_usage_error() -> None:
    result = runner.invoke(app, ["settle", CONTRACT, ACTUALS, "--json", "--format", "csv"])
    assert result.exit_code == 2
    assert "choose one of --format, --json and --csv" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("command", "key", "expected"),
    [
        (["scenarios", CONTRACT], "level", ["0.0", "0.5", "0.8", "1.0", "1.2", "1.5"]),
        (["compare", CONTRACT, OTHER, *OUTCOMES], "scenario", [s for s in SCENARIOS for _ in "ab"]),
    ],
)
def test_pricing_commands_print_json_and_csv(
    command: list[str], key: str, expected: list[str]
) -> None:
    as_json = runner.invoke(app, [*command, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == json.loads(runner.invoke(app, [*command, "--json"]).stdout)
    as_csv = runner.invoke(app, [*command, "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [row[key] for row in rows] == expected


def test_validate_csv_has_the_json_rows(tmp_path: Path) -> None:
    from kpixl.actuals import read_actuals
    from kpixl.model import load_contract

    path = tmp_path / "q.xlsx"
    build_workbook(load_contract(Path(CONTRACT)), read_actuals(Path(ACTUALS)), out=path)
    (tmp_path / "plain.xlsx").write_bytes(b"not a workbook")
    args = ["validate", str(path), str(tmp_path / "plain.xlsx")]
    rows = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    as_csv = runner.invoke(app, [*args, "--format", "csv"])
    assert as_csv.exit_code == 1
    got = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [row["code"] for row in got] == [row["code"] for row in rows] != []


def test_wrote_goes_to_stderr(tmp_path: Path) -> None:
    out = tmp_path / "c.xlsx"
    args = ["compare", CONTRACT, OTHER, *OUTCOMES, "-o", str(out), "--format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    json.loads(result.stdout)  # nothing but the document on stdout
    assert f"Wrote {out}" in result.stderr.replace("\n", "")
