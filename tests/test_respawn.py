"""`make run`'s process wrapper: a command that dies is started again; SIGTERM stops it for good."""

import signal
import subprocess
import sys

from django.conf import settings

from tests.processes import wait_until

RESPAWN = str(settings.BASE_DIR / "scripts" / "respawn.py")


def test_a_killed_process_is_started_again_and_sigterm_stops_everything(tmp_path):
    pids = tmp_path / "pids"
    child = f"import os, time; open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n'); time.sleep(60)"
    wrapper = subprocess.Popen(
        [sys.executable, RESPAWN, sys.executable, "-c", child], stderr=subprocess.PIPE, text=True
    )
    try:
        first = wait_until(lambda: pids.exists() and pids.read_text().split(), timeout=10, what="first start")[0]
        subprocess.run(["kill", "-9", first], check=True)
        second = wait_until(
            lambda: len(pids.read_text().split()) == 2 and pids.read_text().split()[1], timeout=10, what="restart"
        )
        assert second != first
        wrapper.send_signal(signal.SIGTERM)
        assert wrapper.wait(timeout=10) != 0  # the child's exit status on SIGTERM
        assert subprocess.run(["kill", "-0", second], capture_output=True).returncode != 0  # the child is gone
        assert "exited with -9; starting it again" in wrapper.stderr.read()
    finally:
        if wrapper.poll() is None:
            wrapper.kill()
