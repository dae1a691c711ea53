#!/usr/bin/env python3
"""Run a command and start it again whenever it exits, until told to stop (``make run``'s Procfile).

    scripts/respawn.py <command> [args…]

honcho stops every process when one exits; wrapped in this, a crashed worker
is restarted (after 1 s, doubling to at most 30 s while it keeps crashing
within 10 s of its start) and the others keep running. SIGINT/SIGTERM are
passed to the command, which is then not restarted: Ctrl-C still stops
``make run``. Production hosts use systemd (``deploy/systemd``, Restart=always)
or their orchestrator instead.
"""

import signal
import subprocess
import sys
import time

stopping = False
child = None


def _forward(signum, _frame):
    global stopping
    stopping = True
    if child is not None and child.poll() is None:
        child.send_signal(signum)


def main(argv: list[str]) -> int:
    global child
    if not argv:
        print("usage: respawn.py <command> [args…]", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, _forward)
    signal.signal(signal.SIGTERM, _forward)
    delay = 1.0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(argv)
        code = child.wait()
        if stopping:
            return code
        delay = delay * 2 if time.monotonic() - started < 10 else 1.0
        delay = min(delay, 30.0)
        print(f"respawn: {argv[0]} exited with {code}; starting it again in {delay:g} s", file=sys.stderr, flush=True)
        deadline = time.monotonic() + delay
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)
        if stopping:
            return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
