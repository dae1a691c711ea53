"""Shared set-up of the benchmarks: a scratch database, created, migrated and dropped in one run.

Every benchmark measures on a database of its own (never the dev database
``wedsync`` or a test database). The owner role of ``DATABASE_OWNER_URL``
creates and migrates it; the superuser of ``PG_SUPERUSER_URL`` drops it
``WITH (FORCE)`` (ending the benchmark's lingering backends).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import urllib.parse
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
APP_URL = os.environ.get("DATABASE_URL", "postgres://wedsync_app:wedsync_app@127.0.0.1:5432/wedsync")
OWNER_URL = os.environ.get("DATABASE_OWNER_URL", "postgres://wedsync_owner:wedsync_owner@127.0.0.1:5432/wedsync")
SUPERUSER_URL = os.environ.get("PG_SUPERUSER_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def with_db(url: str, name: str) -> str:
    """``url`` with its database name replaced by ``name``."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def log(message: str) -> None:
    """A progress line with the time."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def scratch_env(db_name: str, **extra) -> dict:
    """The environment of a portal process on ``db_name`` (application and owner URLs)."""
    return dict(
        os.environ, DATABASE_URL=with_db(APP_URL, db_name), DATABASE_OWNER_URL=with_db(OWNER_URL, db_name), **extra
    )


@contextlib.contextmanager
def scratch_database(prefix: str, *, keep: bool = False):
    """Create ``<prefix>_<pid>``, migrate it as the owner, yield its name; drop it afterwards unless ``keep``."""
    db_name = f"{prefix}_{os.getpid()}"
    log(f"scratch database {db_name}: creating and migrating")
    with psycopg.connect(with_db(OWNER_URL, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    try:
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "-v", "0"],
            cwd=ROOT,
            env=scratch_env(db_name, WEDSYNC_DB_ROLE="owner"),
            check=True,
        )
        yield db_name
    finally:
        if keep:
            log(f"kept scratch database {db_name}")
        else:
            with psycopg.connect(SUPERUSER_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
            log(f"dropped scratch database {db_name}")


def pg_connect(url: str, dbname: str) -> psycopg.Connection:
    """An autocommit connection with ``url``'s credentials to database ``dbname``."""
    return psycopg.connect(with_db(url, dbname), autocommit=True)


BENCH_TIMEZONES = ["Europe/London", "Australia/Sydney", "America/New_York", "Asia/Tokyo", "Europe/Berlin", "UTC"]


def seed_organizations(cur, *, orgs: int, at, timezones: list[str] = BENCH_TIMEZONES) -> None:
    """``orgs`` organizations ``bench-org-00001``… across ``timezones``, and a wedding on the local date of ``at``
    for every tenth (slug ending in 0), by bulk INSERT … SELECT. ``cur`` runs in a service context (RLS is forced)."""
    cur.execute(
        """
        INSERT INTO organizations (id, slug, name, timezone, created_at)
        SELECT gen_random_uuid(), 'bench-org-' || lpad(i::text, 5, '0'), 'Bench org ' || i,
               (%(tzs)s::text[])[1 + i %% %(ntz)s], now()
          FROM generate_series(1, %(orgs)s) i
        """,
        {"orgs": orgs, "tzs": timezones, "ntz": len(timezones)},
    )
    cur.execute(
        """
        INSERT INTO weddings (id, organization_id, couple_name, wedding_date, venue_name, status, created_at)
        SELECT gen_random_uuid(), o.id, 'Couple of ' || o.slug, (%(at)s::timestamptz AT TIME ZONE o.timezone)::date,
               'Venue', 'confirmed', now()
          FROM organizations o WHERE right(o.slug, 1) = '0'
        """,
        {"at": at},
    )


def stop_processes(procs: list, timeout_s: float = 20.0) -> None:
    """Terminate the portal processes a benchmark started, then kill those still running after ``timeout_s``."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
