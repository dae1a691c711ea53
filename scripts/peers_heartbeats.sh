#!/bin/sh
# Test peers of the heartbeats app: a real Alertmanager and amtool (Debian package
# `prometheus-alertmanager`) that tests/test_watchdog.py starts on a loopback port,
# and curl (tests/test_heartbeat_ping_api.py pings like a crontab line would).
# Idempotent: does nothing when both are there; installs them with apt-get as root;
# otherwise stops with the exact command to run.
set -eu
if [ -x /usr/bin/prometheus-alertmanager ] && [ -x /usr/bin/amtool ] && command -v curl >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Alertmanager or curl is missing: run  sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus-alertmanager curl" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager curl
# The package enables a system service; the tests start their own server.
command -v systemctl >/dev/null 2>&1 && systemctl disable --now prometheus-alertmanager >/dev/null 2>&1 || true
