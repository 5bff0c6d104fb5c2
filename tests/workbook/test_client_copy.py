"""``kpixl quote --client-copy``: the workbook without internal pricing (SPEC §7)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpixl.actuals import Actuals
from kpixl.cli import app
from kpixl.engine.pricing import price_contract
from kpixl.model import Contract
from kpixl.ratecard import load_rate_card
from kpixl.workbook.build import build_workbook
from kpixl.workbook.layout import PRICING, RATECARD
from kpixl.workbook.recalc import recalc
from kpixl.workbook.template import template_schema
from kpixl.workbook.validate import validate_workbook
from tests.workbook.test_validate import priced_contract

#: What the agency keeps to itself, as words (English and Chinese labels, schema keys).
INTERNAL_TERMS = (
    "RateCard",
    "rate card",
    "价目表",
    "Pricing",
    "team cost",
    "team_cost",
    "团队月成本",
    "headcount",
    "人数",
    "risk premium",
    "risk_premium",
    "风险溢价",
    "base share",
    "base_share",
    "cap ratio",
    "cap_ratio",
    "list price",
    "标价",
    "monthly cost",
    "每人月成本",
    "term discount",
    "期限折扣",
)
#: "margin" as in the agency's margin; the client's own gross_margin guardrail is theirs.
#: (OOXML's <pageMargins> is print layout and "marginal" a curve mode, not money.)
AGENCY_MARGIN = re.compile(r"(?<!gross_)(?<!page)margin(?!al)", re.IGNORECASE)


def package_text(path: Path) -> dict[str, str]:
    """Every part of the zip as text."""
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name).decode("utf-8", "replace") for name in package.namelist()}


def internal_numbers(contract: Contract) -> list[str]:
    """The price's internal figures as a cell or a text would hold them."""
    price = price_contract(load_rate_card(), contract)
    figures = [price.lines.team_cost, price.lines.monthly_list, price.list]
    assert contract.quote is not None
    figures.append(contract.quote.risk_premium)
    return [repr(float(x)).removesuffix(".0") for x in figures]


def found(parts: dict[str, str], contract: Contract) -> list[tuple[str, str]]:
    hits = []
    for name, text in parts.items():
        lowered = text.lower()
        hits += [(name, t) for t in INTERNAL_TERMS if t.lower() in lowered]
        hits += [(name, m.group()) for m in AGENCY_MARGIN.finditer(text)]
        if name.startswith("xl/theme/"):  # XlsxWriter's fixed Office theme: colours and fonts
            continue
        for number in internal_numbers(contract):
            if re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", text):
                hits.append((name, number))
    return hits


@pytest.fixture
def quoted(spec_contract: Contract) -> Contract:
    contract = priced_contract(spec_contract)
    assert contract.quote is not None
    # A risk premium no other figure of the workbook shares, so a leak cannot hide.
    quote = contract.quote.model_copy(update={"risk_premium": 1.137})
    contract = contract.model_copy(update={"quote": quote})
    price = price_contract(load_rate_card(), contract)
    update = {"base": price.base, "pool": price.pool, "period_cap": price.period_cap}
    return contract.model_copy(update={"fee": contract.fee.model_copy(update=update)})


@pytest.mark.parametrize("mode", ["native", "udf"])
def test_no_internal_pricing_anywhere_in_the_package(
    tmp_path: Path, quoted: Contract, spec_actuals: Actuals, mode: str
) -> None:
    full = build_workbook(quoted, spec_actuals, mode=mode, out=tmp_path / "full.xlsx")  # type: ignore[arg-type]
    client = build_workbook(
        quoted,
        spec_actuals,
        mode=mode,
        out=tmp_path / "client.xlsx",
        variant="client",  # type: ignore[arg-type]
    )
    # The search finds the agency's figures and words in its own workbook...
    leaks_in_full = found(package_text(full), quoted)
    assert {t for _n, t in leaks_in_full} >= {"RateCard", "风险溢价", *internal_numbers(quoted)}
    # ...and none in the copy for the client: no cell, name, comment or property.
    assert found(package_text(client), quoted) == []
    assert validate_workbook(client) == []
    recalculated = tmp_path / "recalc.xlsx"
    assert recalc(client, recalculated).ok
    assert validate_workbook(recalculated) == []
    assert found(package_text(recalculated), quoted) == []


def test_client_variant_in_the_schema(quoted: Contract) -> None:
    full = {s.name for s in template_schema(quoted).sheets}
    client = template_schema(quoted, variant="client")
    assert {PRICING, RATECARD} <= full
    assert {s.name for s in client.sheets} == full - {PRICING, RATECARD}
    assert not [c for c in client.cells if c.sheet in (PRICING, RATECARD)]
    assert not [c for c in client.cells if c.key.startswith(("pricing.", "ratecard."))]
    assert json.loads(client.to_json())["variant"] == "client"
    assert template_schema(quoted).variant == "full"


def test_cli_client_copy(tmp_path: Path, quoted: Contract) -> None:
    contract = tmp_path / "c.json"
    contract.write_text(quoted.model_dump_json(by_alias=True, exclude_none=True), "utf-8")
    out = tmp_path / "client.xlsx"
    result = CliRunner().invoke(app, ["quote", str(contract), "--client-copy", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert found(package_text(out), quoted) == []
    result = CliRunner().invoke(app, ["validate", str(out)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["schema", "template", str(contract), "--client-copy"])
    assert result.exit_code == 0, result.output
    sheets = [sheet["name"] for sheet in json.loads(result.stdout)["sheets"]]
    assert "RateCard" not in sheets and "Pricing" not in sheets


@pytest.mark.parametrize("mode", ["native", "udf"])
def test_client_copy_has_no_ooxml_findings(
    tmp_path: Path, quoted: Contract, spec_actuals: Actuals, mode: str
) -> None:
    from openxml_audit import OpenXmlValidator

    out = tmp_path / "client.xlsx"
    build_workbook(quoted, spec_actuals, mode=mode, out=out, variant="client")  # type: ignore[arg-type]
    result = OpenXmlValidator(max_errors=0).validate(out)
    assert [str(error) for error in result.errors] == []
