#!/usr/bin/env bash
# Run every check CI runs: lint, format, types, and the test suite (warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy --strict bus transport siteconf counter_display printer queue_server firmware_sim kiosk scanner motcua_cli hub
.venv/bin/motcua contract export --check
.venv/bin/motcua http openapi --check
.venv/bin/python -m pytest "$@"
