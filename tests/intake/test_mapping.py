"""Mapping files: shipped ones as SPEC §11 defines them, the schema, and bad mappings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpixl.cli import app
from kpixl.errors import IntakeError
from kpixl.intake import load_mapping, shipped_mappings
from kpixl.intake.mapping import header_key

runner = CliRunner()


def test_shipped_mappings_produce_the_columns_of_spec_11() -> None:
    assert {"amazon-business-report", "amazon-ads-campaign", "shopify-orders"} <= set(
        shipped_mappings()
    )
    business = load_mapping("amazon-business-report")
    assert [(c.metric, c.column, c.rollup) for c in business.columns] == [
        ("gmv", "Ordered Product Sales", "sum"),
        ("units", "Units Ordered", "sum"),
        ("sessions", "Sessions - Total", "sum"),
        ("orders", "Total Order Items", "sum"),
    ]
    assert "已订购商品销售额" in business.columns[0].aliases
    assert "会话数 - 总计" in business.columns[2].aliases
    ads = load_mapping("amazon-ads-campaign")
    assert [(c.metric, c.column) for c in ads.columns] == [
        ("ad_spend", "Spend"),
        ("ad_sales", "7 Day Total Sales"),
        ("clicks", "Clicks"),
        ("impressions", "Impressions"),
    ]
    assert "花费" in ads.columns[0].aliases and "7天总销售额" in ads.columns[1].aliases
    shopify = load_mapping("shopify-orders")
    assert [(c.metric, c.column, c.rollup) for c in shopify.columns] == [
        ("gmv", "Total", "sum"),
        ("orders", "Name", "count_distinct"),
    ]
    assert shopify.rows.first_of == "Name"
    assert shopify.rows.exclude_when_filled == ("Cancelled at",)
    assert shopify.date.column == "Created at"


def test_headers_match_ignoring_spaces_case_and_dashes() -> None:
    assert header_key("7 Day Total Sales ") == header_key("7 day total sales")
    assert header_key("Sessions – Total – B2B") == header_key("sessions - total - b2b")
    assert header_key("Sessions—Total") == header_key("Sessions - Total")
    assert header_key("Ordered Product Sales - B2B") != header_key("Ordered Product Sales")


def test_schema_mapping_prints_the_json_schema() -> None:
    result = runner.invoke(app, ["schema", "mapping"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["title"] == "kpixl export mapping"
    assert set(schema["required"]) == {"name", "date", "columns"}
    rollup = schema["$defs"]["SourceColumn"]["properties"]["rollup"]
    assert rollup["enum"] == ["sum", "mean", "last", "count_distinct"]


def test_a_mapping_file_of_ones_own_works_like_a_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(
        "name: my-shop\ndecimal: comma\ndate: {column: Datum, formats: ['%d.%m.%Y']}\n"
        "columns: [{metric: gmv, column: Umsatz}]\n",
        encoding="utf-8",
    )
    mapping = load_mapping(str(path))
    assert mapping.decimal == "comma" and mapping.metrics == ("gmv",)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "name: x\ndate: {column: D, formats: ['%m/%Y']}\ncolumns: [{metric: a, column: A}]\n",
            "date",
        ),
        (
            "name: x\ndate: {column: D, formats: ['%Y-%m-%d']}\ncolumns: [{metric: a, column: A, rollup: median}]\n",
            "columns.0.rollup",
        ),
        (
            "name: x\ndate: {column: D, formats: ['%Y-%m-%d']}\ncolumns: [{metric: a, column: A}, {metric: a, column: B}]\n",
            "columns",
        ),
        (
            "name: x\ndate: {column: D, formats: ['%Y-%m-%d']}\ncolumns: [{metric: a, column: A, colour: red}]\n",
            "columns.0.colour",
        ),
        ("name: x\ncolumns: [", "not valid YAML"),
    ],
)
def test_a_bad_mapping_is_kx240_naming_the_key(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(IntakeError) as caught:
        load_mapping(str(path))
    assert {issue.code for issue in caught.value.issues} == {"KX240"}
    assert where in str(caught.value)


def test_an_unknown_mapping_name_lists_the_shipped_ones() -> None:
    with pytest.raises(IntakeError, match="amazon-business-report"):
        load_mapping("amazon-busines-report")


def test_mappings_ship_with_the_package() -> None:
    import tomllib

    import kpixl

    root = Path(__file__).resolve().parents[2]
    package_data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert "data/mappings/*.yaml" in package_data["tool"]["setuptools"]["package-data"]["kpixl"]
    folder = Path(kpixl.__file__).parent / "data" / "mappings"
    assert {p.stem for p in folder.glob("*.yaml")} == set(shipped_mappings())
