#!/usr/bin/env bash
# Real peers the tests talk to: Debian's Chromium (browser tests), and
# whatever each app's scripts/peers_<app>.sh installs (e.g. Prometheus).
# Installs what is missing when run as root; otherwise stops with the command.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt() {  # need_apt <binary> <debian packages…>
  local bin=$1; shift
  command -v "$bin" >/dev/null && return 0
  if [ "$(id -u)" != 0 ]; then
    printf '\033[31mpeers: %s is missing. Run: sudo apt-get update && sudo apt-get install -y %s\033[0m\n' "$bin" "$*" >&2
    exit 1
  fi
  printf '\033[1m==> installing %s with apt (test peer)\033[0m\n' "$*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

need_apt chromium chromium
for script in scripts/peers_*.sh; do
  [ -e "$script" ] && bash "$script"
done
exit 0
