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
# Paging in the demo goes to the local sink (scripts/webhook_sink.py): email over SMTP on 8026,
# Twilio's and Slack's APIs over HTTP on 8025. Anything already set in the environment wins.
export PORTAL_BASE_URL=${PORTAL_BASE_URL:-http://127.0.0.1:$PORT}
export EMAIL_URL=${EMAIL_URL:-smtp://127.0.0.1:8026}
export TWILIO_API_BASE_URL=${TWILIO_API_BASE_URL:-http://127.0.0.1:8025/twilio}
export TWILIO_ACCOUNT_SID=${TWILIO_ACCOUNT_SID:-ACdemo0000000000000000000000000000}
export TWILIO_AUTH_TOKEN=${TWILIO_AUTH_TOKEN:-demo-auth-token}
export TWILIO_FROM_NUMBER=${TWILIO_FROM_NUMBER:-+15005550006}
export SLACK_API_BASE_URL=${SLACK_API_BASE_URL:-http://127.0.0.1:8025/slack}
export SLACK_BOT_TOKEN=${SLACK_BOT_TOKEN:-xoxb-demo}
# The demo's webhook sink listens on this machine: let the platform's channels reach it (never set this in
# production; wedsync_ops/outbound.py).
export OUTBOUND_ALLOW_PRIVATE_NETWORKS=${OUTBOUND_ALLOW_PRIVATE_NETWORKS:-127.0.0.1/32}
.venv/bin/python manage.py collectstatic --no-input -v 0
cat <<MSG

  WedSync Ops is starting on http://127.0.0.1:$PORT/
    staff login:  ops / ops-demo-pass            (/ops/saturday/, /ops/db/, /admin/)
    vendor login: rosewood / rosewood-demo-pass  (/org/rosewood-florals/)
  gunicorn, a worker per queue and beat; a crashed process is restarted. Ctrl-C stops them all.

MSG
exec .venv/bin/honcho start -f Procfile
