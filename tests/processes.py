"""Real portal processes for the tests that need them: gunicorn, Celery workers and beat, as deployed.

Each runs as a subprocess of the test, connected as the application role to
the test database (``app_env``), with the tests' private broker database, and
is stopped by ``stop``. Waits are bounded polls on what the process serves.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time

import requests
from django.conf import settings
from django.db import connection

from tests.conftest import TEST_BROKER

ROOT = settings.BASE_DIR


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(*, port: int | None = None, host: str | None = None) -> str:
    """The test database as the application role (through ``host:port`` when given, e.g. PgBouncer)."""
    db = connection.settings_dict
    host = host or db["HOST"] or "127.0.0.1"
    port = port or db["PORT"] or 5432
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}"


def app_env(**overrides) -> dict:
    """The environment of a portal process under test: test database, private broker, JSON logs, no sampling."""
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=TEST_BROKER,
        REDBEAT_REDIS_URL=TEST_BROKER,
        CONN_MAX_AGE="0",
        APM_SELF_SAMPLE_RATE="0",
        DJANGO_SETTINGS_MODULE="wedsync_ops.settings",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def start(args: list[str], env: dict, *, log_path=None) -> subprocess.Popen:
    """Start ``args`` in the checkout with ``env``; output to ``log_path`` (a file) or discarded."""
    out = open(log_path, "w") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed by stop()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    proc.log_file = out if log_path else None
    return proc


def start_gunicorn(env: dict, *, port: int, workers: int = 2, log_path=None) -> subprocess.Popen:
    """gunicorn with the repository's ``gunicorn.conf.py`` on ``127.0.0.1:port``; returns once it answers."""
    env = dict(env, PORT=str(port), WEB_CONCURRENCY=str(workers))
    proc = start(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wedsync_ops.wsgi"], env, log_path=log_path
    )
    wait_until(lambda: _answers(f"http://127.0.0.1:{port}/health/live"), timeout=30, what="gunicorn", proc=proc)
    return proc


def start_worker(env: dict, *, queues: str, name: str, concurrency: int = 1, log_path=None) -> subprocess.Popen:
    """A Celery worker (prefork, as deployed) consuming ``queues`` (comma-separated)."""
    return start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wedsync_ops",
            "-q",
            "worker",
            "-Q",
            queues,
            "-n",
            f"{name}@%h",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env,
        log_path=log_path,
    )


def start_beat(env: dict, *, log_path=None) -> subprocess.Popen:
    """Celery beat with the configured scheduler (celery-redbeat, its lock in the test broker's Redis)."""
    return start(
        [sys.executable, "-m", "celery", "-A", "wedsync_ops", "-q", "beat", "--loglevel=INFO"], env, log_path=log_path
    )


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a process started here (SIGTERM to its session, then SIGKILL), and close its log."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=timeout)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(proc.pid, 9)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)
    if getattr(proc, "log_file", None):
        proc.log_file.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def wait_until(condition, *, timeout: float, what: str, proc: subprocess.Popen | None = None, poll: float = 0.1):
    """Poll ``condition()`` until true (returns its value), or fail after ``timeout`` s naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}")
        time.sleep(poll)
    raise AssertionError(f"{what}: not within {timeout} s")


@contextlib.contextmanager
def serving(proc: subprocess.Popen, *, ready, what: str, timeout: float, workdir=None):
    """Wait until ``ready()`` (a started peer answers), run the block, then stop it and remove ``workdir``."""
    try:
        wait_until(ready, timeout=timeout, what=what, proc=proc)
        yield proc
    finally:
        stop(proc)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
