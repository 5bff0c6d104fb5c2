#!/usr/bin/env bash
# Install LibreOffice Calc (headless) and poppler-utils (pdftoppm) on Debian/Ubuntu, if missing.
# Idempotent: installs nothing when everything asked for is already there.
# Used by CI before the `libreoffice` tests and by scripts/render_workbook.py.
#   --fonts  also install a CJK font (fonts-noto-cjk), needed to render the Chinese
#            labels of a workbook to PDF/PNG; recalculation does not need it.
set -euo pipefail

fonts=0
for arg in "$@"; do
    case "$arg" in
        --fonts) fonts=1 ;;
        *) echo "usage: $0 [--fonts]" >&2; exit 2 ;;
    esac
done

packages=()
command -v soffice >/dev/null 2>&1 || packages+=(libreoffice-calc-nogui)
command -v pdftoppm >/dev/null 2>&1 || packages+=(poppler-utils)
command -v ssconvert >/dev/null 2>&1 || packages+=(gnumeric)  # Gnumeric round trips (tests)
/usr/bin/python3 -c "import uno" >/dev/null 2>&1 || packages+=(python3-uno)  # LibreOffice via UNO
if [ "$fonts" -eq 1 ] && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
    packages+=(fonts-noto-cjk)
fi

if [ ${#packages[@]} -eq 0 ]; then
    echo "install_libreoffice: nothing to install"
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
# With recommends: LibreOffice without its recommended fonts and filters is untested here.
$sudo apt-get install -y "${packages[@]}"

soffice --version
command -v pdftoppm
