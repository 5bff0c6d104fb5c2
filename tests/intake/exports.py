"""Platform exports written by the tests in each real format, with the figures they hold.

No real customer data: every value comes from a seeded generator, and each writer returns the
exact figures it wrote so the tests can sum them independently of kpixl.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import xlsxwriter

FIRST = dt.date(2027, 1, 1)
LAST = dt.date(2027, 3, 10)  # January and February complete, March partial

CONTRACT_YAML = """\
id: TEST-INTAKE
client: Test Client
provider: Test Provider
currency: USD
platform: amazon
start: 2027-01-01
period: month
periods: 6
revenue_kpi: gmv
fee: {base: 1000, pool: 5000}
kpis:
  - {code: gmv, unit: currency, weight: 0.6, target: 40000}
  - {code: roas, unit: ratio, weight: 0.4, target: 3.0, ratio: [ad_sales, ad_spend]}
"""

SHOPIFY_CONTRACT_YAML = """\
id: TEST-SHOPIFY
client: Test Client
provider: Test Provider
currency: USD
platform: shopify
start: 2027-01-01
period: month
periods: 3
revenue_kpi: gmv
fee: {base: 1000, pool: 5000}
kpis:
  - {code: gmv, unit: currency, weight: 0.7, target: 2000}
  - {code: orders, unit: count, weight: 0.3, target: 20}
"""


def days(first: dt.date = FIRST, last: dt.date = LAST) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def cents(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def dollars(value: Decimal) -> str:
    """``$1,234.56`` as Seller Central writes it."""
    return f"${value:,.2f}"


@dataclass
class Written:
    """What a writer put in an export: per day and metric, the exact values."""

    daily: dict[dt.date, dict[str, Decimal]] = field(default_factory=dict)

    def add(self, day: dt.date, metric: str, value: Decimal) -> None:
        row = self.daily.setdefault(day, {})
        row[metric] = row.get(metric, Decimal(0)) + value

    def month(self, year: int, month: int, metric: str) -> Decimal:
        return sum(
            (
                v.get(metric, Decimal(0))
                for d, v in self.daily.items()
                if (d.year, d.month) == (year, month)
            ),
            Decimal(0),
        )


BUSINESS_HEADER = [
    "Date",
    "Ordered Product Sales",
    "Ordered Product Sales - B2B",
    "Units Ordered",
    "Units Ordered - B2B",
    "Total Order Items",
    "Total Order Items - B2B",
    "Page Views - Total",
    "Sessions - Total",
    "Unit Session Percentage",
]


def business_report_text(seed: int = 1, last: dt.date = LAST) -> tuple[str, Written]:
    """A Sales and Traffic by Date report: one row per day, month-first dates, $ amounts."""
    rng = random.Random(seed)
    written = Written()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(BUSINESS_HEADER)
    for day in days(FIRST, last):
        sales = cents(rng, 300, 2500)
        b2b = cents(rng, 0, 200)
        units = rng.randint(5, 80)
        items = rng.randint(5, units)
        sessions = rng.randint(100, 3000)
        written.add(day, "gmv", sales)
        written.add(day, "units", Decimal(units))
        written.add(day, "orders", Decimal(items))
        written.add(day, "sessions", Decimal(sessions))
        writer.writerow(
            [
                f"{day.month}/{day.day}/{day.year}",
                dollars(sales),
                dollars(b2b),
                units,
                0,
                items,
                0,
                f"{sessions * 2:,}",
                f"{sessions:,}",
                f"{units / sessions * 100:.2f}%",
            ]
        )
    return buffer.getvalue(), written


def write_business_report_utf8_bom(path: Path, seed: int = 1, last: dt.date = LAST) -> Written:
    text, written = business_report_text(seed, last)
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return written


def write_business_report_utf16(path: Path, seed: int = 1, last: dt.date = LAST) -> Written:
    """Excel's "Unicode text": UTF-16 LE with BOM, tab-separated."""
    text, written = business_report_text(seed, last)
    rows = list(csv.reader(io.StringIO(text)))
    tabbed = "\r\n".join("\t".join(row) for row in rows) + "\r\n"
    path.write_bytes(tabbed.encode("utf-16"))
    return written


ADS_HEADER = [
    "Date",
    "Portfolio name",
    "Currency",
    "Campaign Name",
    "Impressions",
    "Clicks",
    "Click-Thru Rate (CTR)",
    "Cost Per Click (CPC)",
    "Spend",
    "7 Day Total Sales ",  # the trailing space of the real export
    "Total Advertising Cost of Sales (ACOS) ",
]
CAMPAIGNS = ("SP - Auto - Home", "SP - Exact - Towels", "SP - Broad - Bath mats")


def write_ads_xlsx(path: Path, seed: int = 2, last: dt.date = LAST) -> Written:
    """A Sponsored Products campaign report, daily: three campaigns a day, Excel date cells."""
    rng = random.Random(seed)
    written = Written()
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Sponsored_Products_Campaign_re")
    date_format = workbook.add_format({"num_format": "mmm d, yyyy"})
    for col, name in enumerate(ADS_HEADER):
        sheet.write_string(0, col, name)
    row = 1
    for day in days(FIRST, last):
        for campaign in CAMPAIGNS:
            impressions = rng.randint(500, 20000)
            clicks = rng.randint(5, 300)
            spend = cents(rng, 5, 300)
            sales = cents(rng, 0, 1200)
            written.add(day, "ad_spend", spend)
            written.add(day, "ad_sales", sales)
            written.add(day, "clicks", Decimal(clicks))
            written.add(day, "impressions", Decimal(impressions))
            sheet.write_datetime(row, 0, dt.datetime(day.year, day.month, day.day), date_format)
            sheet.write_string(row, 1, "Home")
            sheet.write_string(row, 2, "USD")
            sheet.write_string(row, 3, campaign)
            sheet.write_number(row, 4, impressions)
            sheet.write_number(row, 5, clicks)
            sheet.write_number(row, 6, clicks / impressions)
            sheet.write_number(row, 7, float(spend / clicks))
            sheet.write_number(row, 8, float(spend))
            sheet.write_number(row, 9, float(sales))
            sheet.write_number(row, 10, float(spend / sales) if sales else 0.0)
            row += 1
    workbook.close()
    return written


SHOPIFY_HEADER = [
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Cancelled at",
]
PRODUCTS = ("猫抓板 Cat scratcher", "宠物饮水机 Pet fountain", "狗粮 Dog food 2kg", "Leash")


def write_shopify_gb18030(
    path: Path, seed: int = 3, last: dt.date = dt.date(2027, 2, 20)
) -> Written:
    """An orders export: one row per line item, some orders cancelled, saved as GB18030."""
    rng = random.Random(seed)
    written = Written()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SHOPIFY_HEADER)
    number = 1000
    for day in days(FIRST, last):
        for _ in range(rng.choice((0, 0, 1, 2, 3))):  # some days have no order at all
            number += 1
            lines = rng.randint(1, 3)
            prices = [cents(rng, 5, 60) for _ in range(lines)]
            shipping = Decimal("4.99")
            total = sum(prices, Decimal(0)) + shipping
            cancelled = rng.random() < 0.15
            stamp = f"{day.isoformat()} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:07 -0500"
            if not cancelled:
                written.add(day, "gmv", total)
                written.add(day, "orders", Decimal(1))
            for i, price in enumerate(prices):
                first = i == 0
                writer.writerow(
                    [
                        f"#{number}",
                        "buyer@example.com",
                        "paid" if first else "",
                        stamp if first else "",
                        "USD" if first else "",
                        f"{total - shipping:.2f}" if first else "",
                        f"{shipping:.2f}" if first else "",
                        "0.00" if first else "",
                        f"{total:.2f}" if first else "",
                        stamp,
                        1,
                        rng.choice(PRODUCTS),
                        f"{price:.2f}",
                        stamp if cancelled and first else "",
                    ]
                )
    path.write_bytes(buffer.getvalue().encode("gb18030"))
    return written
