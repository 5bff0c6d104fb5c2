"""The files ``kpixl ingest`` writes, as deterministic text: actuals CSV, daily CSV, evidence."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

from kpixl.intake.ingest import Ingested, Value


def number_text(value: Value) -> str:
    """A figure as written to a CSV: exact decimals as they add up, means to 15 digits, or ''."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -15:
        return format(value.normalize(), "f")
    return format(Decimal(repr(float(value))), "f")  # a mean's endless fraction: a double's worth


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def actuals_csv(result: Ingested) -> str:
    """The actuals of SPEC §4: ``period`` then one column per metric, complete periods only."""
    rows = [
        [period.label, *(number_text(period.values[name]) for name in result.columns)]
        for period in result.complete
    ]
    return _csv(["period", *result.columns], rows)


def daily_csv(result: Ingested) -> str:
    """The daily CSV of SPEC §9: one row per calendar day, zeros for sum columns without rows."""
    rows = [
        [day.isoformat(), *(number_text(values[name]) for name in result.columns)]
        for day, values in result.daily
    ]
    return _csv(["date", *result.columns], rows)


def evidence(result: Ingested) -> dict[str, Any]:
    """The evidence document of SPEC §11: no folders, no timestamps."""
    return {
        "contract": result.contract,
        "through": result.through.isoformat(),
        "sources": [
            {
                "file": source.name,
                "mapping": source.mapping,
                "sha256": source.sha256,
                "rows": source.rows,
                "first_date": None if source.first_date is None else source.first_date.isoformat(),
                "last_date": None if source.last_date is None else source.last_date.isoformat(),
            }
            for source in result.sources
        ],
        "periods": [
            {"period": p.label, "days_with_data": p.days_with_data, "complete": p.complete}
            for p in result.periods
        ],
    }


def evidence_json(result: Ingested) -> str:
    """The evidence document as JSON text (two-space indent, keys in SPEC order)."""
    return json.dumps(evidence(result), indent=2, ensure_ascii=False) + "\n"
