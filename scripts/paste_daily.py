"""Paste a daily CSV into a workbook's Pacing sheet, as a person pastes it (README picture).

    .venv/bin/python scripts/paste_daily.py WORKBOOK.xlsx DAILY.csv OUT.xlsx

The rows go below the header of the Pacing sheet's daily block, dates as dates and figures as
numbers, in the header's column order; the as-of date is left blank (the last pasted day).
"""

from __future__ import annotations

import sys
from pathlib import Path

from kpixl.daily import read_daily
from kpixl.workbook.pacing_paste import paste_daily

if __name__ == "__main__":
    workbook, daily, out = (Path(arg) for arg in sys.argv[1:4])
    count = paste_daily(workbook, read_daily(daily), out)
    print(f"wrote {out} ({count} daily rows pasted)", file=sys.stderr)
