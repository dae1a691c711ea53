#!/usr/bin/env bash
# make lint: every guard rail, fastest first (docs/CONTRIBUTING.md, "Guard rails"). Run by scripts/test.sh.
#   ruff check            style and bug patterns (pyproject.toml [tool.ruff.lint])
#   ruff format --check   one layout for every file (pyproject.toml [tool.ruff.format])
#   lint-imports          app boundaries (.importlinter, contracts in wedsync_ops/boundaries.py)
#   mypy                  services, selectors and the tenancy foundation with django-stubs ([tool.mypy])
#   makemigrations        the models and the migrations agree (no migration missing)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .env ]; then set -a; . ./.env; set +a; fi
fail() { echo "lint: $1" >&2; exit 1; }
.venv/bin/ruff check --quiet . || fail "ruff found problems (above); fix them or run .venv/bin/ruff check --fix ."
.venv/bin/ruff format --check --quiet . || fail "files not formatted (above); run .venv/bin/ruff format ."
PYTHONPATH=. .venv/bin/lint-imports --no-cache >/dev/null 2>&1 \
  || { PYTHONPATH=. .venv/bin/lint-imports --no-cache; fail "an import crosses an app boundary (above)"; }
.venv/bin/mypy --no-error-summary || fail "mypy found type errors (above)"
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null \
  || fail "a model changed without its migration: run .venv/bin/python manage.py makemigrations"
echo "lint: ruff, ruff format, import contracts, mypy, migrations: all pass"
