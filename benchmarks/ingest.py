"""Speed of ``kpixl ingest`` on a year of exports: time and peak memory per source format.

Generates (fixed seed, in a temporary folder) a Shopify orders export of a busy shop (one row
per line item), a year of Sponsored Products campaign rows as XLSX, and a year of Business
Report days as UTF-16 "Unicode text"; runs ``kpixl ingest`` on each in a child process and
prints wall time, rows per second and the child's peak RSS.

    .venv/bin/python benchmarks/ingest.py [--orders 100000] [--campaigns 60]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter

CONTRACT = """\
id: BENCH
client: C
provider: P
currency: USD
platform: amazon
start: 2027-01-01
period: month
periods: 12
fee: {base: 1000, pool: 5000}
kpis:
  - {code: kpi, metric: METRIC, weight: 1, target: 100000}
"""
DAYS = [dt.date(2027, 1, 1) + dt.timedelta(days=n) for n in range(365)]


def shopify(path: Path, orders: int, rng: random.Random) -> int:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Name", "Email", "Total", "Created at", "Lineitem name", "Cancelled at"])
    rows = 0
    for n in range(orders):
        day = DAYS[n * len(DAYS) // orders]
        stamp = f"{day} 12:00:00 -0500"
        cancelled = stamp if rng.random() < 0.05 else ""
        for i in range(rng.randint(1, 4)):
            total = f"{rng.randint(500, 50000) / 100:.2f}" if i == 0 else ""
            writer.writerow([f"#{n}", "a@example.com", total, stamp, "商品 item", cancelled])
            rows += 1
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return rows


def ads(path: Path, campaigns: int, rng: random.Random) -> int:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet()
    dates = workbook.add_format({"num_format": "mmm d, yyyy"})
    sheet.write_row(0, 0, ["Date", "Campaign Name", "Impressions", "Clicks", "Spend",
                           "7 Day Total Sales "])  # fmt: skip
    row = 1
    for day in DAYS:
        for c in range(campaigns):
            sheet.write_datetime(row, 0, dt.datetime(day.year, day.month, day.day), dates)
            spend, sales = rng.randint(100, 9999) / 100, rng.randint(0, 99999) / 100
            counts = [rng.randint(100, 9999), rng.randint(1, 99)]
            sheet.write_row(row, 1, [f"SP {c}", *counts, spend, sales])
            row += 1
    workbook.close()
    return row - 1


def business(path: Path, rng: random.Random) -> int:
    lines = ["Date\tOrdered Product Sales\tUnits Ordered\tSessions - Total\tTotal Order Items"]
    for day in DAYS:
        sales = f"${rng.randint(100000, 9000000) / 100:,.2f}"
        lines.append(f"{day.month}/{day.day}/{day.year}\t{sales}\t12\t1,234\t10")
    path.write_bytes("\r\n".join(lines).encode("utf-16"))
    return len(DAYS)


def run(folder: Path, mapping: str, export: Path, rows: int, metric: str) -> None:
    (folder / "c.yaml").write_text(CONTRACT.replace("METRIC", metric), encoding="utf-8")
    command = [sys.executable, "-m", "kpixl", "ingest", str(folder / "c.yaml"),
               "--source", f"{mapping}={export}", "-o", str(folder / "a.csv"),
               "--through", "2027-12-31"]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(done.stderr)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    size = export.stat().st_size / 1e6
    print(
        f"{mapping:24} {export.suffix:5} {rows:>8} rows {size:6.1f} MB  {seconds:6.2f} s  "
        f"{rows / seconds:>9,.0f} rows/s  peak RSS so far {peak:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--campaigns", type=int, default=60)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        br = folder / "business.txt"
        run(folder, "amazon-business-report", br, business(br, rng), "gmv")
        ad = folder / "ads.xlsx"
        run(folder, "amazon-ads-campaign", ad, ads(ad, args.campaigns, rng), "ad_spend")
        orders = folder / "orders.csv"
        run(folder, "shopify-orders", orders, shopify(orders, args.orders, rng), "gmv")


if __name__ == "__main__":
    main()
