#!/usr/bin/env bash
# Render the README pictures of the SPEC example workbook: page 1 of the Quote as it prints
# (A4 portrait: the proposal a client reads), the Settlement sheet (its helper columns are
# grouped and collapsed, so the whole sheet fits the picture), and a Statement page and page 1
# of the Review from `kpixl pdf`.
# Needs soffice and pdftoppm, and a CJK font for the Chinese labels:
# scripts/install_libreoffice.sh --fonts.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/kpixl quote workbooks/examples/acme-amz-us.yaml \
    --actuals workbooks/examples/acme-amz-us.actuals.csv -o "$work/acme.xlsx"
mkdir -p docs/img "$work/print" "$work/sheet"
.venv/bin/python scripts/render_workbook.py "$work/acme.xlsx" "$work/print" --layout print --dpi 80
# Page 1 (render_workbook numbers pages acme-1 or acme-01 by how many there are).
cp "$(ls -v "$work"/print/acme-*.png | head -1)" docs/img/quote.png
.venv/bin/python scripts/render_workbook.py "$work/acme.xlsx" "$work/sheet" --sheets Settlement --dpi 90
cp "$work/sheet/acme-Settlement.png" docs/img/settlement.png
echo "wrote docs/img/quote.png docs/img/settlement.png"

# The Statement (结算单) of 2027-06 as `kpixl pdf` prints it: page 1, trimmed.
.venv/bin/kpixl pdf "$work/acme.xlsx" -o "$work/statement.pdf" --sheets Statement --period 2027-06
# 100 dpi A4 is 827 x 1169 pixels: the page without its empty lower part (pdftoppm crops).
pdftoppm -png -r 100 -f 1 -l 1 -singlefile -x 0 -y 0 -W 827 -H 690 \
    "$work/statement.pdf" docs/img/statement
echo "wrote docs/img/statement.png"

# The Pacing sheet of March with the example's daily rows pasted (as-of: the last pasted day),
# as `kpixl pdf --sheets Pacing` prints it: A4 landscape, page 1, trimmed.
.venv/bin/python scripts/paste_daily.py "$work/acme.xlsx" \
    workbooks/examples/daily/acme-amz-us.daily.csv "$work/pacing.xlsx"
.venv/bin/kpixl pdf "$work/pacing.xlsx" -o "$work/pacing.pdf" --sheets Pacing
# 100 dpi A4 landscape is 1169 x 827 pixels: the page without its empty lower part.
pdftoppm -png -r 100 -f 1 -l 1 -singlefile -x 0 -y 0 -W 1169 -H 660 \
    "$work/pacing.pdf" docs/img/pacing
echo "wrote docs/img/pacing.png"

# Page 1 of the Review sheet as `kpixl pdf --sheets Review` prints it, trimmed.
.venv/bin/kpixl pdf "$work/acme.xlsx" -o "$work/review.pdf" --sheets Review
pdftoppm -png -r 100 -f 1 -l 1 -singlefile -x 0 -y 0 -W 827 -H 500 \
    "$work/review.pdf" docs/img/review
echo "wrote docs/img/review.png"
