#!/bin/sh
# Test peers of the apm app: the Prometheus server that tests/test_providers.py
# starts on a loopback port (Debian package `prometheus`). Idempotent: does
# nothing when /usr/bin/prometheus exists; installs it with apt-get as root;
# otherwise stops with the exact command to run.
set -eu
if [ -x /usr/bin/prometheus ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Prometheus is missing: run  sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
# The package enables a system service; the tests start their own server.
command -v systemctl >/dev/null 2>&1 && systemctl disable --now prometheus >/dev/null 2>&1 || true
