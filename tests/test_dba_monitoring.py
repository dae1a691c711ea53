"""A DBA in psql (owner role, superuser, pg_monitor member) runs the monitoring views and functions with no app.role,
while the application role with no context still sees nothing (also when a superuser SETs ROLE to it)."""

import os

import psycopg
import pytest
from django.conf import settings
from django.db import connection

SUPERUSER_URL = os.environ.get("PG_SUPERUSER_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _connect(user: str, password: str | None = None):
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        dbname=db["NAME"],
        user=user,
        password=password,
        autocommit=True,
    )


def _superuser():
    return psycopg.conninfo.conninfo_to_dict(SUPERUSER_URL)["user"]


@pytest.fixture
def seeded(transactional_db, world):
    return world


@pytest.mark.parametrize("who", ["owner", "superuser"])
def test_owner_and_superuser_run_the_monitoring_objects_without_app_role(seeded, who):
    user, password = (
        (settings.DATABASE_OWNER["USER"], settings.DATABASE_OWNER["PASSWORD"])
        if who == "owner"
        else (_superuser(), None)
    )
    with _connect(user, password) as conn:
        assert conn.execute("SELECT current_setting('app.role', true)").fetchone()[0] in (None, "")
        assert conn.execute("SELECT app_role()").fetchone() == ("staff",)
        summary = conn.execute("SELECT get_database_monitoring_summary()").fetchone()[0]
        assert summary["status"] in ("ok", "warning", "critical")
        assert conn.execute("SELECT count(*) FROM monitoring_connections").fetchone()[0] >= 1
        conn.execute("SELECT * FROM monitoring_slow_queries LIMIT 5").fetchall()
        assert conn.execute("SELECT count(*) FROM monitoring_rls_status").fetchone()[0] > 10
        assert conn.execute("SELECT aggregate_metrics('1 minute')").fetchone()[0] >= 0
        assert conn.execute("SELECT count(*) FROM organizations").fetchone() == (2,)


def test_the_application_role_with_no_context_still_sees_nothing(seeded):
    app = settings.DATABASE_APP
    with _connect(app["USER"], app["PASSWORD"]) as conn:
        assert conn.execute("SELECT app_role(), app_session_is_dba()").fetchone() == ("", False)
        assert conn.execute("SELECT count(*) FROM organizations").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM monitoring_connections").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="staff or service context"):
            conn.execute("SELECT aggregate_metrics('1 minute')")
    with _connect(_superuser()) as conn:  # a superuser testing as the application role
        conn.execute(f'SET ROLE "{app["USER"]}"')
        assert conn.execute("SELECT app_role(), count(*) FROM organizations").fetchone() == ("", 0)


def test_a_pg_monitor_member_reads_the_statistics_views(seeded):
    role = f"wedsync_test_monitor_{os.getpid()}"
    with _connect(_superuser()) as su:
        su.execute(f"DROP ROLE IF EXISTS {role}")
        su.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'monitor' IN ROLE pg_monitor")
        su.execute(f"GRANT CONNECT ON DATABASE {connection.settings_dict['NAME']} TO {role}")
    try:
        with _connect(role, "monitor") as conn:
            assert conn.execute("SELECT app_role()").fetchone() == ("staff",)
            assert conn.execute("SELECT count(*) FROM monitoring_connections").fetchone()[0] >= 1
            assert conn.execute("SELECT count(*) FROM monitoring_table_health").fetchone()[0] > 10
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT count(*) FROM organizations")  # tenant tables stay closed to it
    finally:
        with _connect(_superuser()) as su:
            su.execute(f"REVOKE CONNECT ON DATABASE {connection.settings_dict['NAME']} FROM {role}")
            su.execute(f"DROP ROLE {role}")
