#!/usr/bin/env bash
# Compile the lock files from pyproject.toml ([project] dependencies, and the dev extra) with uv:
# every transitive dependency pinned with its hashes. Run after editing pyproject.toml (README "Dependencies").
#   requirements.txt      production (what the Dockerfile and deploy/ install)
#   requirements-dev.txt  production + tests and tools, constrained to the same versions (make test, make run)
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-.venv/bin/uv}
common=(--quiet --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu
        --no-header --annotation-style line "$@")
"$UV" pip compile pyproject.toml "${common[@]}" -o requirements.txt
"$UV" pip compile pyproject.toml --extra dev -c requirements.txt "${common[@]}" -o requirements-dev.txt
echo "lock: requirements.txt ($(grep -c '==' requirements.txt) packages), requirements-dev.txt ($(grep -c '==' requirements-dev.txt))"
