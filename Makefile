# WedSync Ops. Two commands do all set-up on a fresh machine:
#   make run    gunicorn + a worker per queue + beat (+ demo data) on http://127.0.0.1:8000/
#   make test   the guard rails (make lint) and the test suite against real PostgreSQL and Redis
.PHONY: run test prepare seed lint bench-ingest

PY := .venv/bin/python
PORT ?= 8000
# Links and ping URLs the portal prints point at the port it serves (set PORTAL_BASE_URL to override).
PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)
export PORTAL_BASE_URL

prepare:
	@bash scripts/prepare.sh

seed: prepare
	@DEMO_WEBHOOK_URL=$${DEMO_WEBHOOK_URL:-http://127.0.0.1:8025/hook} $(PY) manage.py seed_demo

run: seed
	@bash scripts/run.sh $(PORT)

test: prepare
	@bash scripts/peers.sh
	@bash scripts/test.sh

lint:
	@bash scripts/lint.sh
