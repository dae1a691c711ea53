#!/bin/sh
# Test peers of the alerts app: Debian's prometheus-alertmanager, whose `alertmanager` binary
# tests/test_alertmanager_peer.py runs on a loopback port and whose `amtool` drives the portal's
# Alertmanager API v2 (tests/test_alertmanager_api_v2.py). Idempotent: does nothing when both
# binaries exist; installs the package with apt-get as root; otherwise stops with the exact command.
set -eu
if [ -x /usr/bin/prometheus-alertmanager ] && [ -x /usr/bin/amtool ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Alertmanager is missing: run  sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus-alertmanager" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager
# The package enables a system service; the tests start their own server.
command -v systemctl >/dev/null 2>&1 && systemctl disable --now prometheus-alertmanager >/dev/null 2>&1 || true
