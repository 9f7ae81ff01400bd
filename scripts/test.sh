#!/usr/bin/env bash
# Run every check CI runs: lint, format, types, and the test suite (warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# mypy runs strict (pyproject); bench/ on its own, since bench/kiosk.py would clash with the kiosk package.
.venv/bin/mypy bus transport siteconf device_service counter_display printer queue_server firmware_sim kiosk scanner motcua_cli qtview hub tests
.venv/bin/mypy bench
.venv/bin/lint-imports  # import layering: the contracts of [tool.importlinter] in pyproject.toml
.venv/bin/motcua contract export --check
.venv/bin/motcua http openapi --check
# One worker per core (MOTCUA_TEST_WORKERS overrides; 0 runs in this process), whole files per worker:
# each worker has its own Mosquitto, Xvfb displays and PostgreSQL schemas, and Qt tests keep their order.
workers="${MOTCUA_TEST_WORKERS:-$(nproc)}"
.venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
