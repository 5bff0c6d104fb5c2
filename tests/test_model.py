"""The contract model: every SPEC §3 rule refused with the file, key path and rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kpixl.errors import ContractError
from kpixl.model import contract_from_data, contract_json_schema, load_contract
from tests.conftest import EXAMPLES


@pytest.fixture
def spec_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "acme-amz-us.yaml").read_text("utf-8"))
    return data


def refuse(data: dict[str, Any]) -> str:
    with pytest.raises(ContractError) as caught:
        contract_from_data(data, "c.yaml")
    return str(caught.value)


def test_spec_example_loads(spec_data: dict[str, Any]) -> None:
    contract = contract_from_data(spec_data, "c.yaml")
    assert contract.kpis[2].curve is not None
    assert contract.kpis[2].curve.froms == (0.9, 1.0, 1.2)
    assert contract.kpi("gmv").effective_targets(6) == (180000, 240000) + (300000,) * 4
    assert contract.decimals == 2


@pytest.mark.parametrize(
    ("edit", "location", "words"),
    [
        (lambda d: d.update(colour="red"), "c.yaml: colour", "unknown key"),
        (lambda d: d["kpis"][0].update(wieght=0.5), "c.yaml: kpis[0].wieght", "unknown key"),
        (lambda d: d["kpis"][1]["curve"]["tiers"].reverse(), "c.yaml: kpis[1].curve", "sorted"),
        (
            lambda d: d["kpis"][1]["curve"]["tiers"][1].update({"from": 0.8}),
            "kpis[1].curve",
            "unique",
        ),
        (
            lambda d: d["kpis"][1]["curve"]["tiers"][0].update(rate=-1),
            "kpis[1].curve.tiers[0].rate",
            "greater than or equal to 0",
        ),
        (lambda d: d["kpis"][1]["curve"].update(tiers=[]), "kpis[1].curve", "at least one tier"),
        (
            lambda d: d["kpis"][2]["curve"].update(tiers=[{"from": 1, "rate": 1}]),
            "kpis[2].curve",
            "at least two",
        ),
        (lambda d: d["kpis"][0].update(weight=0.6), "c.yaml: (top)", "weights must sum to 1"),
        (lambda d: d["kpis"][1].update(code="gmv"), "c.yaml: (top)", "repeated: gmv"),
        (lambda d: d.update(revenue_kpi="sales"), "c.yaml: (top)", "names no KPI"),
        (lambda d: d["kpis"][0].update(target=[1, 2, 3]), "c.yaml: kpis[0].target", "3 entries"),
        (lambda d: d["kpis"][0].update(ramp=[1] * 7), "c.yaml: kpis[0].ramp", "7 entries"),
        (lambda d: d["kpis"][0].update(ramp=[0, 1]), "kpis[0].ramp[0]", "greater than 0"),
        (lambda d: d["kpis"][0].update(target=0), "c.yaml: kpis[0].target", "must be > 0"),
        (lambda d: d["kpis"][0].update(baseline=400000), "kpis[0].target", "above baseline"),
        (lambda d: d["kpis"][2].update(baseline=0.05), "kpis[2].target", "below baseline"),
        (lambda d: d["kpis"][0].update(threshold=2), "c.yaml: kpis[0]", "attainment_cap"),
        (lambda d: d["fee"].update(base=-1), "c.yaml: fee.base", "greater than or equal to 0"),
        (
            lambda d: d["fee"].update(period_cap=-5),
            "c.yaml: fee.period_cap",
            "greater than or equal",
        ),
        (
            lambda d: d["guardrails"][1].update(multiplier=1.5),
            "guardrails[1].multiplier",
            "less than",
        ),
        (
            lambda d: d["guardrails"][1].pop("multiplier"),
            "c.yaml: guardrails[1]",
            "needs a 'multiplier'",
        ),
        (lambda d: d.update(platform="ebay"), "c.yaml: platform", "amazon"),
        (lambda d: d.update(id="bad id!"), "c.yaml: id", "pattern"),
        (lambda d: d.update(periods=0), "c.yaml: periods", "greater than or equal to 1"),
        (lambda d: d.update(periods=121), "c.yaml: periods", "less than or equal to 120"),
        (lambda d: d["kpis"][0].update(code="GMV"), "c.yaml: kpis[0].code", "pattern"),
        (lambda d: d["kpis"][1].update(metric="roas"), "c.yaml: kpis[1]", "not both"),
        (lambda d: d.pop("fee"), "c.yaml: fee", "required key is missing"),
        (lambda d: d.update(currency="usd"), "c.yaml: currency", "pattern"),
    ],
)
def test_rule_is_refused_at_its_key(
    spec_data: dict[str, Any], edit: Any, location: str, words: str
) -> None:
    data = copy.deepcopy(spec_data)
    edit(data)
    message = refuse(data)
    assert location in message
    assert words in message


def test_every_problem_is_reported_at_once(spec_data: dict[str, Any]) -> None:
    data = copy.deepcopy(spec_data)
    data["fee"]["base"] = -1
    data["kpis"][0]["wieght"] = 1
    with pytest.raises(ContractError) as caught:
        contract_from_data(data, "c.yaml")
    assert {i.location for i in caught.value.issues} == {
        "c.yaml: fee.base",
        "c.yaml: kpis[0].wieght",
    }
    assert {i.code for i in caught.value.issues} == {"KX102"}


def test_staged_targets_and_zero_decimal_currency(spec_data: dict[str, Any]) -> None:
    data = copy.deepcopy(spec_data)
    data["kpis"][0]["target"] = [100, 200, 300, 400, 500, 600]
    data["currency"] = "VND"
    contract = contract_from_data(data, "c.yaml")
    assert contract.kpis[0].effective_targets(6) == (60.0, 160.0, 300, 400, 500, 600)
    assert contract.decimals == 0
    assert contract.model_copy(update={"currency_decimals": 3}).decimals == 3


def test_quarter_labels_follow_the_calendar(spec_data: dict[str, Any]) -> None:
    data = {**spec_data, "period": "quarter", "start": "2027-11-15", "periods": 3}
    contract = contract_from_data(data, "c.yaml")
    assert contract.period_labels == ("2027-Q4", "2028-Q1", "2028-Q2")


def test_load_reports_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="KX100 cannot read"):
        load_contract(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(ContractError, match="KX101 not valid YAML"):
        load_contract(bad)
    scalar = tmp_path / "scalar.json"
    scalar.write_text("42", encoding="utf-8")
    with pytest.raises(ContractError, match="mapping"):
        load_contract(scalar)


def test_json_contract_loads_like_yaml(spec_data: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(spec_data, default=str), encoding="utf-8")
    assert load_contract(path) == load_contract(EXAMPLES / "acme-amz-us.yaml")


def test_json_schema_describes_contract_files() -> None:
    schema = contract_json_schema()
    assert schema["title"] == "kpixl contract"
    assert set(schema["required"]) >= {"id", "currency", "fee", "kpis", "periods", "start"}
    assert schema["additionalProperties"] is False
    tier = schema["$defs"]["Tier"]
    assert "from" in tier["properties"]
