"""The evidence document read back: what ingest wrote, and refusals of anything else."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from kpixl.errors import IntakeError
from kpixl.intake.evidence import load_evidence

DOCUMENT = {
    "contract": "TEST-INTAKE",
    "through": "2027-03-10",
    "sources": [
        {
            "file": "br.csv",
            "mapping": "amazon-business-report",
            "sha256": "ab" * 32,
            "rows": 69,
            "first_date": "2027-01-01",
            "last_date": "2027-03-10",
        }
    ],
    "periods": [
        {"period": "2027-01", "days_with_data": 31, "complete": True},
        {"period": "2027-03", "days_with_data": 10, "complete": False},
    ],
}


def test_evidence_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    evidence = load_evidence(path)
    assert evidence.through == dt.date(2027, 3, 10)
    assert evidence.sources[0].rows == 69
    assert evidence.complete_periods == ("2027-01",)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"through": "soon"}, "through"),
        ({"sources": [{**DOCUMENT["sources"][0], "sha256": "xyz"}]}, "sources.0.sha256"),  # type: ignore[index]
        ({"extra": 1}, "extra"),
    ],
)
def test_a_document_that_is_not_evidence_is_kx248(
    tmp_path: Path, change: dict[str, object], where: str
) -> None:
    path = tmp_path / "e.json"
    path.write_text(json.dumps({**DOCUMENT, **change}), encoding="utf-8")
    with pytest.raises(IntakeError) as caught:
        load_evidence(path)
    assert {i.code for i in caught.value.issues} == {"KX248"}
    assert where in str(caught.value)


def test_not_json_is_kx248(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(IntakeError, match="KX248"):
        load_evidence(path)
