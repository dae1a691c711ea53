#!/usr/bin/env bash
# Run the web server, a Celery worker and Celery beat together (honcho).
# Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-8000}
export PORT
.venv/bin/python manage.py collectstatic --no-input -v 0
cat <<MSG

  WedSync Ops is starting on http://127.0.0.1:$PORT/
    staff login:  ops / ops-demo-pass            (/ops/saturday/, /ops/db/, /admin/)
    vendor login: rosewood / rosewood-demo-pass  (/org/rosewood-florals/)
  Ctrl-C stops the web server, the worker and beat.

MSG
exec .venv/bin/honcho start -f Procfile
