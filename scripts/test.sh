#!/usr/bin/env bash
# Run the test suite (after scripts/prepare.sh). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-artifacts
.venv/bin/ruff check --quiet . || { echo "ruff found problems (above); fix them or run .venv/bin/ruff check --fix ." >&2; exit 1; }
exec .venv/bin/pytest "$@"
