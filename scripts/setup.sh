#!/usr/bin/env bash
# Set up motcua on a fresh Debian 12 machine: system packages (when we may install them), then a
# virtualenv in .venv with the project and the extras asked for (default: demo; "dev" for tests).
# Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-demo}"

apt_packages=(
  python3-venv python3-pip
  mosquitto                      # the MQTT broker of the demo and the integration tests
  fonts-dejavu-core fonts-noto-core  # Vietnamese glyphs for tickets and screens
  libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0  # Qt, also offscreen
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0        # Qt windows on X11
  xvfb socat
  # one line per part; keep each part's packages on its own line
  chromium chromium-driver       # queue server: the dashboard and counter console tested in a real browser
  tesseract-ocr tesseract-ocr-vie poppler-utils  # printer: OCR of the simulator's paper, Form 01 PDF checks
  espeak-ng sox                  # counter: the Vietnamese voice announcer
  xdotool                        # kiosk: real mouse events on a real window under Xvfb (also libzbar0, espeak-ng)
  postgresql-client-15           # hub: pg_dump and psql for the hub's backup-and-restore test
  libzbar0 sane-utils poppler-utils ghostscript  # scanner: barcodes (pyzbar), SANE test backend, PDF checks, PDF/A
)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else sudo="none"; fi
  if [ "$sudo" = "none" ]; then
    echo "setup: please install these Debian packages first: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian service would take port 1883; motcua starts its own broker, so leave theirs alone.

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[${extras}]"
echo "setup: ready (.venv with extras: ${extras})"
