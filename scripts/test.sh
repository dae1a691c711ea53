#!/usr/bin/env bash
# Run the test suite (after scripts/prepare.sh). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-artifacts
bash scripts/lint.sh
exec .venv/bin/pytest "$@"
