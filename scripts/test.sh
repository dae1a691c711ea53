#!/usr/bin/env bash
# Run the test suite (after scripts/prepare.sh). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-artifacts
exec .venv/bin/pytest "$@"
