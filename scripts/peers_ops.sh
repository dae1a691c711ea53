#!/bin/sh
# Test peers of the production setup: PgBouncer (tests/test_pgbouncer.py) and Alertmanager
# (tests/test_alertmanager_rate_limit_peer.py), Debian's packages; each test starts its own on a free port.
# Idempotent: does nothing when both exist; installs them with apt-get as root; otherwise stops with the command.
set -eu
[ -x /usr/sbin/pgbouncer ] && [ -x /usr/bin/prometheus-alertmanager ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "PgBouncer or Alertmanager is missing: run  sudo apt-get update && sudo apt-get install -y --no-install-recommends pgbouncer prometheus-alertmanager" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer prometheus-alertmanager
# The packages enable system services; the tests start their own.
for service in pgbouncer prometheus-alertmanager; do
  command -v systemctl >/dev/null 2>&1 && systemctl disable --now "$service" >/dev/null 2>&1 || true
  [ -x "/etc/init.d/$service" ] && "/etc/init.d/$service" stop >/dev/null 2>&1 || true
done
exit 0
