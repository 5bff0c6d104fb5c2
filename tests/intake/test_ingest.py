"""``kpixl ingest`` end to end on exports in each real format (SPEC §11)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpixl.actuals import read_actuals
from kpixl.cli import app
from kpixl.engine.settle import settle
from kpixl.model import load_contract
from tests.intake import exports

runner = CliRunner()


@pytest.fixture
def amazon(tmp_path: Path) -> dict[str, Path]:
    contract = tmp_path / "contract.yaml"
    contract.write_text(exports.CONTRACT_YAML, encoding="utf-8")
    return {
        "contract": contract,
        "br": tmp_path / "BusinessReport-3-10-27.csv",
        "br16": tmp_path / "BusinessReport-unicode.txt",
        "ads": tmp_path / "Sponsored_Products_Campaign_report.xlsx",
        "out": tmp_path / "out",
    }


def ingest(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["ingest", *(str(a) for a in args)])
    return result.exit_code, result.stdout, result.stderr


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_business_report_and_ads_give_monthly_sums(amazon: dict[str, Path]) -> None:
    business = exports.write_business_report_utf8_bom(amazon["br"])
    ads = exports.write_ads_xlsx(amazon["ads"])
    out = amazon["out"]
    out.mkdir()
    code, stdout, stderr = ingest(
        amazon["contract"],
        "--source", f"amazon-business-report={amazon['br']}",
        "--source", f"amazon-ads-campaign={amazon['ads']}",
        "-o", out / "actuals.csv", "--daily", out / "daily.csv", "--evidence", out / "e.json",
    )  # fmt: skip
    assert code == 0, stderr
    rows = read_csv(out / "actuals.csv")
    assert [row["period"] for row in rows] == ["2027-01", "2027-02"]  # March is partial
    assert list(rows[0]) == [
        "period", "gmv", "ad_sales", "ad_spend", "units", "sessions", "orders", "clicks", "impressions",
    ]  # fmt: skip
    for row, month in zip(rows, (1, 2), strict=True):
        for metric in ("gmv", "units", "sessions", "orders"):
            assert Decimal(row[metric]) == business.month(2027, month, metric), metric
        for metric in ("ad_spend", "ad_sales", "clicks", "impressions"):
            assert Decimal(row[metric]) == ads.month(2027, month, metric), metric
    assert "2027-03: 10 of 31 days with data, partial" in stdout
    assert "wrote" in stderr and "wrote" not in stdout


def test_daily_rows_cover_every_day_with_zeros_on_days_without_rows(tmp_path: Path) -> None:
    contract = tmp_path / "s.yaml"
    contract.write_text(exports.SHOPIFY_CONTRACT_YAML, encoding="utf-8")
    export = tmp_path / "orders_export.csv"
    written = exports.write_shopify_gb18030(export)
    code, _, stderr = ingest(
        contract, "--source", f"shopify-orders={export}", "--encoding", "gb18030",
        "-o", tmp_path / "a.csv", "--daily", tmp_path / "d.csv",
    )  # fmt: skip
    assert code == 0, stderr
    daily = read_csv(tmp_path / "d.csv")
    first = min(written.daily)
    assert [row["date"] for row in daily] == [
        (first + dt.timedelta(days=n)).isoformat() for n in range(len(daily))
    ]
    assert daily[-1]["date"] == "2027-02-20"
    for row in daily:
        day = dt.date.fromisoformat(row["date"])
        expected = written.daily.get(day, {})
        assert Decimal(row["gmv"]) == expected.get("gmv", Decimal(0))
        assert Decimal(row["orders"]) == expected.get("orders", Decimal(0))
    assert any(row["gmv"] == "0" for row in daily)  # days without orders are zero rows
    february = [row for row in daily if row["date"].startswith("2027-02")]
    assert len(february) == 20  # the partial month: every day through the last date


def test_shopify_counts_each_order_once_and_leaves_cancelled_out(tmp_path: Path) -> None:
    contract = tmp_path / "s.yaml"
    contract.write_text(exports.SHOPIFY_CONTRACT_YAML, encoding="utf-8")
    export = tmp_path / "orders_export.csv"
    written = exports.write_shopify_gb18030(export)
    raw = export.read_bytes().decode("gb18030")
    assert "猫抓板" in raw or "宠物饮水机" in raw or "狗粮" in raw
    code, stdout, stderr = ingest(
        contract, "--source", f"shopify-orders={export}", "--encoding", "gb18030",
        "-o", tmp_path / "a.csv", "--through", "2027-02-28",
    )  # fmt: skip
    assert code == 0, stderr
    rows = read_csv(tmp_path / "a.csv")
    assert [row["period"] for row in rows] == ["2027-01", "2027-02"]
    for row, month in zip(rows, (1, 2), strict=True):
        assert Decimal(row["gmv"]) == written.month(2027, month, "gmv")
        assert int(row["orders"]) == written.month(2027, month, "orders")
    # Independently of kpixl: first rows of each Name, without a Cancelled at.
    counted: dict[str, Decimal] = {}
    for line in csv.DictReader(raw.splitlines()):
        if line["Name"] not in counted and not line["Cancelled at"]:
            counted[line["Name"]] = Decimal(line["Total"])
        counted.setdefault(line["Name"], Decimal(0))
    assert sum(counted.values()) == sum(Decimal(row["gmv"]) for row in rows)
    assert "2027-02: 20 of 28 days" not in stdout  # --through completes February


def test_without_encoding_a_gb18030_export_is_a_named_error(tmp_path: Path) -> None:
    contract = tmp_path / "s.yaml"
    contract.write_text(exports.SHOPIFY_CONTRACT_YAML, encoding="utf-8")
    export = tmp_path / "orders_export.csv"
    exports.write_shopify_gb18030(export)
    code, _, stderr = ingest(
        contract, "--source", f"shopify-orders={export}", "-o", tmp_path / "a.csv"
    )
    assert code == 1
    assert "KX241" in stderr and "--encoding" in stderr
    assert "it looks like GB18030" in stderr  # a hint only: the file is still refused
    assert not (tmp_path / "a.csv").exists()


def test_utf16_unicode_text_reads_like_the_utf8_csv(amazon: dict[str, Path]) -> None:
    exports.write_business_report_utf8_bom(amazon["br"])
    exports.write_business_report_utf16(amazon["br16"])
    exports.write_ads_xlsx(amazon["ads"])
    outputs = []
    for name, report in (("a.csv", amazon["br"]), ("b.csv", amazon["br16"])):
        target = amazon["contract"].parent / name
        code, _, stderr = ingest(
            amazon["contract"], "--source", f"amazon-business-report={report}",
            "--source", f"amazon-ads-campaign={amazon['ads']}", "-o", target,
        )  # fmt: skip
        assert code == 0, stderr
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]


def test_evidence_names_files_hashes_and_periods(amazon: dict[str, Path]) -> None:
    exports.write_business_report_utf8_bom(amazon["br"])
    exports.write_ads_xlsx(amazon["ads"])
    evidence = amazon["contract"].parent / "evidence.json"
    code, _, stderr = ingest(
        amazon["contract"], "--source", f"amazon-business-report={amazon['br']}",
        "--source", f"amazon-ads-campaign={amazon['ads']}",
        "-o", amazon["contract"].parent / "a.csv", "--evidence", evidence,
    )  # fmt: skip
    assert code == 0, stderr
    document = json.loads(evidence.read_text(encoding="utf-8"))
    assert list(document) == ["contract", "through", "sources", "periods"]
    assert document["contract"] == "TEST-INTAKE"
    assert document["through"] == "2027-03-10"
    sources = document["sources"]
    assert [list(s) for s in sources] == [
        ["file", "mapping", "sha256", "rows", "first_date", "last_date"]
    ] * 2
    assert [s["file"] for s in sources] == [amazon["br"].name, amazon["ads"].name]
    assert [s["mapping"] for s in sources] == ["amazon-business-report", "amazon-ads-campaign"]
    for source, path in zip(sources, (amazon["br"], amazon["ads"]), strict=True):
        assert source["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        printed = subprocess.run(
            ["sha256sum", str(path)], capture_output=True, text=True, check=True
        ).stdout.split()[0]
        assert source["sha256"] == printed
    days = (exports.LAST - exports.FIRST).days + 1
    assert [s["rows"] for s in sources] == [days, 3 * days]
    assert all((s["first_date"], s["last_date"]) == ("2027-01-01", "2027-03-10") for s in sources)
    assert document["periods"] == [
        {"period": "2027-01", "days_with_data": 31, "complete": True},
        {"period": "2027-02", "days_with_data": 28, "complete": True},
        {"period": "2027-03", "days_with_data": 10, "complete": False},
    ]


def test_through_defaults_to_the_earliest_last_date(amazon: dict[str, Path]) -> None:
    exports.write_business_report_utf8_bom(amazon["br"], last=dt.date(2027, 2, 27))
    exports.write_ads_xlsx(amazon["ads"])
    target = amazon["contract"].parent / "a.csv"
    code, stdout, stderr = ingest(
        amazon["contract"], "--source", f"amazon-business-report={amazon['br']}",
        "--source", f"amazon-ads-campaign={amazon['ads']}", "-o", target,
    )  # fmt: skip
    assert code == 0, stderr
    assert "through 2027-02-27" in stdout
    assert [row["period"] for row in read_csv(target)] == ["2027-01"]


def test_same_inputs_give_the_same_bytes(amazon: dict[str, Path]) -> None:
    exports.write_business_report_utf8_bom(amazon["br"])
    exports.write_ads_xlsx(amazon["ads"])
    runs = []
    for n in (1, 2):
        folder = amazon["contract"].parent / f"run{n}"
        folder.mkdir()
        code, _, stderr = ingest(
            amazon["contract"], "--source", f"amazon-business-report={amazon['br']}",
            "--source", f"amazon-ads-campaign={amazon['ads']}", "-o", folder / "a.csv",
            "--daily", folder / "d.csv", "--evidence", folder / "e.json",
        )  # fmt: skip
        assert code == 0, stderr
        runs.append([(folder / name).read_bytes() for name in ("a.csv", "d.csv", "e.json")])
    assert runs[0] == runs[1]


def test_round_trip_ingest_then_settle_equals_settle_on_hand_typed_actuals(
    amazon: dict[str, Path],
) -> None:
    business = exports.write_business_report_utf8_bom(amazon["br"])
    ads = exports.write_ads_xlsx(amazon["ads"])
    ingested = amazon["contract"].parent / "ingested.csv"
    code, _, stderr = ingest(
        amazon["contract"], "--source", f"amazon-business-report={amazon['br']}",
        "--source", f"amazon-ads-campaign={amazon['ads']}", "-o", ingested,
    )  # fmt: skip
    assert code == 0, stderr
    typed = amazon["contract"].parent / "typed.csv"
    lines = ["period,gmv,ad_sales,ad_spend"]
    for month in (1, 2):
        lines.append(
            f"2027-{month:02d},{business.month(2027, month, 'gmv')},"
            f"{ads.month(2027, month, 'ad_sales')},{ads.month(2027, month, 'ad_spend')}"
        )
    typed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    contract = load_contract(amazon["contract"])
    from_ingest = settle(contract, read_actuals(ingested)).to_dict()
    by_hand = settle(contract, read_actuals(typed)).to_dict()
    assert from_ingest == by_hand
    assert len(from_ingest["periods"]) == 2
    settled = runner.invoke(app, ["settle", str(amazon["contract"]), str(ingested), "--json"])
    assert settled.exit_code == 0
    assert json.loads(settled.stdout) == by_hand


def test_decimal_comma_mapping_of_ones_own(tmp_path: Path) -> None:
    mapping = tmp_path / "eu-shop.yaml"
    mapping.write_text(
        "name: eu-shop\ndecimal: comma\ndate: {column: Datum, formats: ['%d.%m.%Y']}\n"
        "columns:\n  - {metric: gmv, column: Umsatz}\n",
        encoding="utf-8",
    )
    export = tmp_path / "umsatz.csv"
    export.write_text(
        'Datum;Umsatz\n31.01.2027;"1.234,56 €"\n31.01.2027;"(12,50)"\n01.02.2027;"2,00 €"\n',
        encoding="utf-8",
    )
    contract = tmp_path / "c.yaml"
    contract.write_text(
        exports.SHOPIFY_CONTRACT_YAML.replace(
            "  - {code: gmv, unit: currency, weight: 0.7, target: 2000}\n"
            "  - {code: orders, unit: count, weight: 0.3, target: 20}\n",
            "  - {code: gmv, unit: currency, weight: 1, target: 2000}\n",
        ),
        encoding="utf-8",
    )
    code, _, stderr = ingest(
        contract, "--source", f"{mapping}={export}", "-o", tmp_path / "a.csv",
        "--evidence", tmp_path / "e.json",
    )  # fmt: skip
    assert code == 0, stderr
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == "period,gmv\n2027-01,1222.06\n"
    evidence = json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))
    assert evidence["sources"][0]["mapping"] == "eu-shop.yaml"  # the file name, no folders


def test_indian_grouping_in_an_export(tmp_path: Path) -> None:
    mapping = tmp_path / "in.yaml"
    mapping.write_text(
        "name: in-shop\ndate: {column: Date, formats: ['%Y-%m-%d']}\n"
        "columns:\n  - {metric: gmv, column: Sales}\n",
        encoding="utf-8",
    )
    export = tmp_path / "in.csv"
    export.write_text(
        'Date,Sales\n2027-01-05,"₹1,08,218.36"\n2027-01-31,"₹1,781.64"\n', encoding="utf-8"
    )
    contract = tmp_path / "c.yaml"
    contract.write_text(
        exports.SHOPIFY_CONTRACT_YAML.replace("currency: USD", "currency: INR")
        .replace("  - {code: orders, unit: count, weight: 0.3, target: 20}\n", "")
        .replace("weight: 0.7", "weight: 1"),
        encoding="utf-8",
    )
    code, _, stderr = ingest(contract, "--source", f"{mapping}={export}", "-o", tmp_path / "a.csv")
    assert code == 0, stderr
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == "period,gmv\n2027-01,110000\n"


def test_chinese_interface_headers_are_aliases(tmp_path: Path) -> None:
    contract = tmp_path / "c.yaml"
    contract.write_text(
        exports.SHOPIFY_CONTRACT_YAML.replace("weight: 0.7", "weight: 0.5")
        .replace("  - {code: orders, unit: count, weight: 0.3, target: 20}\n",
                 "  - {code: orders, unit: count, weight: 0.3, target: 20}\n"
                 "  - {code: sessions, unit: count, weight: 0.2, target: 900}\n"),
        encoding="utf-8",
    )  # fmt: skip
    report = tmp_path / "业务报告.csv"
    report.write_bytes(
        "日期,已订购商品销售额,已订购商品销售额 - B2B,已订购商品数量,订单商品总数,会话数 – 总计\n"
        '2027/01/30,"US$1,000.10",US$0.00,3,2,"1,200"\n'
        '2027/01/31,"US$2,000.20",US$10.00,4,3,800\n'.encode("utf-8-sig")
    )
    code, _, stderr = ingest(
        contract, "--source", f"amazon-business-report={report}", "-o", tmp_path / "a.csv"
    )
    assert code == 0, stderr
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == (
        "period,gmv,orders,sessions,units\n2027-01,3000.3,5,2000,7\n"
    )
