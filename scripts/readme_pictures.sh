#!/usr/bin/env bash
# Render the README pictures of the SPEC example workbook: the Quote sheet, the Settlement
# sheet cut to its first columns and its fee columns (the whole sheet is ~40 columns wide), and a
# Statement page from `kpixl pdf`.
# Needs soffice and pdftoppm (scripts/install_libreoffice.sh) and ImageMagick (apt-get install imagemagick).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/kpixl quote workbooks/examples/acme-amz-us.yaml \
    --actuals workbooks/examples/acme-amz-us.actuals.csv -o "$work/acme.xlsx"
.venv/bin/python scripts/render_workbook.py "$work/acme.xlsx" "$work" --sheets Quote,Settlement --dpi 90
mkdir -p docs/img
# The Quote sheet without the per-KPI scenario workings at its far right.
/usr/bin/convert "$work/acme-Quote.png" -crop 2820x+0+0 +repage -trim +repage \
    -bordercolor white -border 12 docs/img/quote.png
settlement="$work/acme-Settlement.png"
width=$(/usr/bin/identify -format %w "$settlement")
left=1125   # period, #, values entered and the actuals as used
right=1165  # bonus before caps ... exit eligible
/usr/bin/convert "$settlement" -crop "${left}x+0+0" +repage "$work/left.png"
/usr/bin/convert "$settlement" -crop "${right}x+$((width - right))+0" +repage "$work/right.png"
/usr/bin/convert -size 40x1 xc:white -gravity center "$work/gap.png"
/usr/bin/convert "$work/left.png" "$work/gap.png" "$work/right.png" +append -trim +repage \
    -bordercolor white -border 12 docs/img/settlement.png
echo "wrote docs/img/quote.png docs/img/settlement.png"

# The Statement (结算单) of 2027-06 as `kpixl pdf` prints it: page 1, trimmed.
.venv/bin/kpixl pdf "$work/acme.xlsx" -o "$work/statement.pdf" --sheets Statement --period 2027-06
# 100 dpi A4 is 827 x 1169 pixels: the page without its empty lower part (pdftoppm crops).
pdftoppm -png -r 100 -f 1 -l 1 -singlefile -x 0 -y 0 -W 827 -H 690 \
    "$work/statement.pdf" docs/img/statement
echo "wrote docs/img/statement.png"
