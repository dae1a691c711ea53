#!/usr/bin/env bash
# Run the portal as it is deployed, on one machine (honcho, Procfile): gunicorn (gunicorn.conf.py),
# a Celery worker per queue (critical, default, metrics, maintenance), beat, and a local webhook sink.
# Each process is wrapped in scripts/respawn.py: one that crashes is started again, the others keep
# running. Ctrl-C stops them all. (A demo runner: production hosts use deploy/systemd or containers.)
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-8000}
export PORT
# Three web workers are plenty on a laptop; gunicorn.conf.py's default is 2 x cores + 1.
export WEB_CONCURRENCY=${WEB_CONCURRENCY:-3}
.venv/bin/python manage.py collectstatic --no-input -v 0
cat <<MSG

  WedSync Ops is starting on http://127.0.0.1:$PORT/
    staff login:  ops / ops-demo-pass            (/ops/saturday/, /ops/db/, /admin/)
    vendor login: rosewood / rosewood-demo-pass  (/org/rosewood-florals/)
  gunicorn, a worker per queue and beat; a crashed process is restarted. Ctrl-C stops them all.

MSG
exec .venv/bin/honcho start -f Procfile
