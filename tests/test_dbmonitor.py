"""Database monitoring: the live-statistics views, events, summary and the /ops/db/ page, as the application role."""

import datetime as dt
import json
import uuid

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.template.loader import render_to_string

from dbmonitor import selectors, services
from dbmonitor.models import MonitoringEvent
from wedsync_ops.tenancy.context import service_context, staff_context, vendor_context

VIEWS = ["monitoring_slow_queries", "monitoring_connections", "monitoring_table_health", "monitoring_rls_status"]
SUMMARY_KEYS = {
    "status",
    "checked_at",
    "connections",
    "slow_queries",
    "pg_stat_statements",
    "tables_needing_vacuum",
    "rls_unprotected_tables",
    "open_events",
}


def _rows(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _exec(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params)


def _one(sql, params=None):
    (row,) = _rows(sql, params)
    return row[0] if len(row) == 1 else row


def _event(*, resolved=False, age=dt.timedelta(0), severity="warning", event_type="test"):
    """Insert a monitoring event created ``age`` before now (needs a platform context)."""
    return MonitoringEvent.objects.create(
        event_type=event_type,
        severity=severity,
        message=f"{event_type} {age}",
        resolved=resolved,
        created_at=_one("SELECT now()") - age,
    )


# --- slow queries -------------------------------------------------------------


# A CTE's name is part of pg_stat_statements' query id (a column alias is not),
# so each probe below names its own CTE and owns its row.
def _probe_calls():
    rows = [r for r in selectors.slow_queries(limit=1000) if "dbmon_slow_probe" in (r["query"] or "")]
    return rows[0] if rows else None


def test_a_query_slower_than_100ms_appears_in_slow_queries_for_staff(db):
    with staff_context():
        assert selectors.pg_stat_statements_available() is True
        before = _probe_calls()
        _rows("WITH dbmon_slow_probe AS (SELECT pg_sleep(%s)) SELECT * FROM dbmon_slow_probe", [0.15])
        row = _probe_calls()
    assert row is not None
    assert row["calls"] == (before["calls"] if before else 0) + 1
    assert row["source"] == "pg_stat_statements"
    assert row["role_name"] == settings.DB_APP_ROLE
    # Normalized, unless other databases' statements evicted the entry pg_stat_statements made at parse
    # time before the 150 ms were over: then it is re-created at the end with the text as sent.
    assert row["query"] in {
        "WITH dbmon_slow_probe AS (SELECT pg_sleep($1)) SELECT * FROM dbmon_slow_probe",
        "WITH dbmon_slow_probe AS (SELECT pg_sleep(0.15)) SELECT * FROM dbmon_slow_probe",
    }
    assert row["mean_ms"] >= 150 and row["total_ms"] >= row["mean_ms"]
    assert row["rows"] >= 1


def test_slow_query_thresholds_are_function_parameters(db):
    with staff_context():
        _rows("WITH dbmon_threshold_probe AS (SELECT pg_sleep(%s)) SELECT * FROM dbmon_threshold_probe", [0.11])
        (calls,) = _rows(
            "SELECT calls FROM monitoring_slow_query_rows(100, 1) WHERE query LIKE %s", ["%dbmon_threshold_probe%"]
        )[0]
        assert calls >= 1
        assert (
            _rows(
                "SELECT 1 FROM monitoring_slow_query_rows(100000, 1) WHERE query LIKE %s", ["%dbmon_threshold_probe%"]
            )
            == []
        )
        assert (
            _rows(
                "SELECT 1 FROM monitoring_slow_query_rows(100, 1000000) WHERE query LIKE %s",
                ["%dbmon_threshold_probe%"],
            )
            == []
        )


def test_the_summary_counts_the_slow_statements_the_view_lists(world):
    # get_database_monitoring_summary() v2 counts with monitoring_slow_query_count(), which reads
    # pg_stat_statements without the texts: it must count exactly what monitoring_slow_query_rows()
    # lists, at every threshold, and nothing outside platform contexts.
    with staff_context():
        _exec("WITH dbmon_count_probe AS (SELECT pg_sleep(0.11)) SELECT * FROM dbmon_count_probe")
        for mean_ms, calls in ((100, 1), (50, 1), (100, 2), (100_000, 1)):
            counted = _one("SELECT monitoring_slow_query_count(%s, %s)", [mean_ms, calls])
            assert counted == _one("SELECT count(*) FROM monitoring_slow_query_rows(%s, %s)", [mean_ms, calls])
        summary = selectors.database_summary()
        assert summary["slow_queries"] == len(selectors.slow_queries(limit=1000)) >= 1
    with vendor_context(world.org_a.id):
        assert _one("SELECT monitoring_slow_query_count(0, 1)") == 0


def test_the_database_pages_summary_from_its_own_reads_is_the_summary(db):
    # health_report() counts slow statements, tables needing vacuum and unprotected tables from its
    # full reads and has monitoring_summary() assemble the rest: the same summary as
    # get_database_monitoring_summary(), here with a slow statement and an open warning event; then
    # the summary of counts given outright.
    with staff_context():
        _exec("WITH dbmon_report_probe AS (SELECT pg_sleep(0.11)) SELECT * FROM dbmon_report_probe")
        _event(severity="warning")
        own = selectors.database_summary()
        report = selectors.health_report()
        given = selectors.database_summary(counts=(0, 0, 0))
        flagged = selectors.database_summary(counts=(0, 0, 3))
        listed = len(selectors.slow_queries(limit=1000))
    drop = ("checked_at", "connections")
    assert {k: v for k, v in report["summary"].items() if k not in drop} == {
        k: v for k, v in own.items() if k not in drop
    }
    assert own["slow_queries"] >= 1 and own["open_events"] == 1 and own["status"] == "warning"
    assert report["summary"]["slow_queries"] == listed >= 1
    assert given["slow_queries"] == given["tables_needing_vacuum"] == given["rls_unprotected_tables"] == 0
    assert given["status"] == "warning" and given["open_events"] == 1  # the event alone keeps it a warning
    assert flagged["rls_unprotected_tables"] == 3 and given["pg_stat_statements"] is True


def test_secrets_in_utility_statements_are_redacted_in_slow_queries(db):
    secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    with staff_context():
        _exec(f"DO $$DECLARE api_token text := '{secret}'; BEGIN PERFORM pg_sleep(0.12); END$$")
        rows = [
            r for r in selectors.slow_queries(limit=1000) if (r["query"] or "").startswith("DO $$DECLARE api_token")
        ]
        everything = _rows("SELECT query FROM monitoring_slow_queries")
    assert [r["query"] for r in rows] == ["DO $$DECLARE api_token text := '***'; BEGIN PERFORM pg_sleep(0.12); END$$"]
    assert not any(secret in (q or "") for (q,) in everything)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ALTER ROLE x PASSWORD 'secret'", "ALTER ROLE x PASSWORD '***'"),
        (
            "alter user bob with encrypted password 'it''s s3cret' valid until 'infinity'",
            "alter user bob with encrypted password '***' valid until 'infinity'",
        ),
        (
            "CREATE ROLE app LOGIN PASSWORD 'md5d41d8cd98f00b204e9800998ecf8427e'",
            "CREATE ROLE app LOGIN PASSWORD '***'",
        ),
        (
            "CREATE USER MAPPING FOR me SERVER s OPTIONS (user 'bob', password 'hunter2')",
            "CREATE USER MAPPING FOR me SERVER s OPTIONS (user 'bob', password '***')",
        ),
        ("SET app.api_token = 'abc'", "SET app.api_token = '***'"),
        ("SET app.header TO 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.abc123'", "SET app.header TO '***'"),
        ("ALTER ROLE x PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$a:b'", "ALTER ROLE x PASSWORD '***'"),
        ("COMMENT ON TABLE weddings IS 'one row per wedding'", "COMMENT ON TABLE weddings IS 'one row per wedding'"),
        ("SELECT * FROM weddings WHERE couple_name = $1", "SELECT * FROM weddings WHERE couple_name = $1"),
        ("SELECT 'password', $1", "SELECT 'password', $1"),
    ],
)
def test_redact_query_text_hides_passwords_and_key_like_literals(db, text, expected):
    assert _one("SELECT redact_query_text(%s)", [text]) == expected


def test_redact_query_text_of_null_is_null(db):
    assert _one("SELECT redact_query_text(NULL)") is None


def test_slow_query_limit_is_validated(db):
    with pytest.raises(ValueError, match="limit"):
        selectors.slow_queries(limit=0)
    with pytest.raises(ValueError, match="limit"):
        selectors.table_health(limit="10")


# --- connections, tables, RLS ------------------------------------------------------------


def test_connections_view_shows_this_backend_and_usable_connections(db):
    with staff_context():
        rows = selectors.connections()
        app_name = _one("SELECT current_setting('application_name')")
        max_conn, reserved = _rows(
            "SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int"
        )[0]
    mine = [r for r in rows if r["application_name"] == app_name and r["state"] == "active"]
    assert mine and mine[0]["connections"] >= 1
    assert mine[0]["longest_active_query_s"] >= 0
    assert {r["max_connections"] for r in rows} == {max_conn}
    assert {r["usable_connections"] for r in rows} == {max_conn - reserved}


def test_rls_status_reports_tenant_tables_enabled_and_forced_and_flags_nothing(db):
    with staff_context():
        rows = {r["table_name"]: r for r in selectors.rls_status()}
    for table in ("user_profiles", "weddings", "api_keys"):
        assert rows[table]["has_organization_id"] is True, table
        assert rows[table]["rls_enabled"] and rows[table]["rls_forced"] and rows[table]["policy_count"] >= 1, table
        assert rows[table]["flagged"] is False, table
    assert rows["monitoring_events"]["rls_forced"] is True and rows["monitoring_events"]["has_organization_id"] is False
    assert not any(name.startswith("apm_metrics_2") for name in rows), "partitions are covered by their parent"
    assert [name for name, r in rows.items() if r["flagged"]] == []


def test_rls_status_flags_a_table_with_organization_id_until_rls_is_forced_with_a_policy(db):
    with staff_context():
        _exec("CREATE TEMP TABLE dbmon_leaky (id int, organization_id uuid)")
        (schema,) = _rows("SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()")[0]

        def status():
            return _rows(
                "SELECT rls_enabled, rls_forced, policy_count, flagged FROM monitoring_rls_status_in(%s)"
                " WHERE table_name = 'dbmon_leaky'",
                [schema],
            )

        assert status() == [(False, False, 0, True)]
        _exec("ALTER TABLE dbmon_leaky ENABLE ROW LEVEL SECURITY")
        _exec("CREATE POLICY p ON dbmon_leaky USING (organization_id = app_vendor_org_id())")
        assert status() == [(True, False, 1, True)]
        _exec("ALTER TABLE dbmon_leaky FORCE ROW LEVEL SECURITY")
        assert status() == [(True, True, 1, False)]


@pytest.mark.django_db(transaction=True)
def test_deleted_events_show_as_dead_tuples_in_table_health():
    with service_context():
        for i in range(20):
            services.monitoring_event_record(event_type="dead_tuple_probe", severity="info", message=f"probe {i}")
        assert MonitoringEvent.objects.filter(event_type="dead_tuple_probe").delete()[0] == 20
    # Statistics reach the shared view when the backend next goes idle; force that flush.
    _rows("SELECT pg_stat_force_next_flush()")
    with staff_context():
        rows = {r["table_name"]: r for r in selectors.table_health(limit=1000) if r["schema_name"] == "public"}
        threshold, scale = _rows(
            "SELECT current_setting('autovacuum_vacuum_threshold')::int,"
            " current_setting('autovacuum_vacuum_scale_factor')::float"
        )[0]
    events = rows["monitoring_events"]
    assert events["n_dead_tup"] >= 20
    assert 0 < events["dead_ratio"] <= 1
    assert events["total_bytes"] > 0 and events["table_bytes"] > 0
    assert events["vacuum_lag_s"] is None or events["vacuum_lag_s"] >= 0
    assert events["needs_vacuum"] is (events["n_dead_tup"] > threshold + scale * events["n_live_tup"])
    # (Other tests of the session leave dead tuples elsewhere: check the rule on every table instead.)
    for name, row in rows.items():
        assert row["needs_vacuum"] is (row["n_dead_tup"] > threshold + scale * row["n_live_tup"]), name
        assert 0 <= row["dead_ratio"] <= 1, name


# --- events, cleanup -----------------------------------------------------------------


def test_record_monitoring_event_and_its_alias_insert_unresolved_events(db):
    with service_context():
        first = _one("SELECT record_monitoring_event('slow_query', 'warning', 'mean 250 ms', '{\"queryid\": 42}')")
        second = _one("SELECT record_db_monitoring_event('connections', 'critical', '95% used')")
        events = {e.id: e for e in MonitoringEvent.objects.all()}
    assert isinstance(first, uuid.UUID) and isinstance(second, uuid.UUID)
    assert events[first].event_type == "slow_query" and events[first].severity == "warning"
    assert events[first].details == {"queryid": 42} and events[first].resolved is False
    assert events[second].severity == "critical" and events[second].details == {}
    assert events[second].created_at is not None


@pytest.mark.parametrize(
    "args, field",
    [
        (("", "warning", "m", "{}"), "event_type"),
        (("x" * 51, "warning", "m", "{}"), "event_type"),
        (("t", None, "m", "{}"), "severity"),
        (("t", "warning", "  ", "{}"), "message"),
        (("t", "warning", "m", "[1]"), "details"),
    ],
)
def test_record_monitoring_event_names_the_bad_argument(db, args, field):
    with service_context():
        with pytest.raises(DatabaseError, match=field):
            with transaction.atomic():
                _rows("SELECT record_monitoring_event(%s, %s::alert_severity, %s, %s::jsonb)", list(args))


def test_record_monitoring_event_is_refused_outside_a_platform_context(world):
    with vendor_context(world.org_a.id):
        with pytest.raises(DatabaseError, match="staff or service context"):
            with transaction.atomic():
                _rows("SELECT record_monitoring_event('x', 'info', 'from a vendor')")
    with pytest.raises(DatabaseError, match="staff or service context"):
        with transaction.atomic():
            _rows("SELECT record_db_monitoring_event('x', 'info', 'no context')")
    with service_context():
        assert MonitoringEvent.objects.count() == 0


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"event_type": " ", "severity": "info", "message": "m"}, "event_type"),
        ({"event_type": "x" * 51, "severity": "info", "message": "m"}, "event_type"),
        ({"event_type": "t", "severity": "loud", "message": "m"}, "severity"),
        ({"event_type": "t", "severity": "info", "message": ""}, "message"),
        ({"event_type": "t", "severity": "info", "message": "m", "details": [1]}, "details"),
    ],
)
def test_monitoring_event_record_service_validates_before_writing(db, kwargs, field):
    with service_context():
        with pytest.raises(ValueError, match=field):
            services.monitoring_event_record(**kwargs)
        assert MonitoringEvent.objects.count() == 0


def test_monitoring_events_resolve_marks_only_unresolved_events(db):
    at = dt.datetime(2026, 6, 13, 12, 0, tzinfo=dt.UTC)
    with service_context():
        open_event = _event()
        done = _event(resolved=True)
        assert services.monitoring_events_resolve(event_ids=[open_event.id, done.id], at=at) == 1
        open_event.refresh_from_db()
        assert open_event.resolved is True and open_event.resolved_at == at
        assert services.monitoring_events_resolve(event_ids=[]) == 0
        with pytest.raises(ValueError, match="at"):
            services.monitoring_events_resolve(event_ids=[done.id], at=dt.datetime(2026, 6, 13, 12, 0))


def test_cleanup_deletes_resolved_after_30_days_and_unresolved_after_7(db):
    day = dt.timedelta(days=1)
    with service_context():
        _event(resolved=True, age=31 * day, event_type="old_resolved")
        _event(resolved=True, age=29 * day, event_type="recent_resolved")
        _event(resolved=False, age=8 * day, event_type="old_open")
        _event(resolved=False, age=6 * day, event_type="recent_open")
    # Neither a vendor nor a context-less caller deletes anything.
    assert _one("SELECT cleanup_old_monitoring_data()") == 0
    with service_context():
        assert services.monitoring_data_cleanup() == 2
        remaining = sorted(MonitoringEvent.objects.values_list("event_type", flat=True))
        assert remaining == ["recent_open", "recent_resolved"]
        assert _one("SELECT cleanup_old_monitoring_data()") == 0


# --- summary -----------------------------------------------------------------------


def test_summary_has_the_documented_shape_for_staff(db):
    with staff_context():
        summary = selectors.database_summary()
        alias = _one("SELECT get_db_monitoring_summary()")
    assert set(summary) == SUMMARY_KEYS
    assert set(summary["connections"]) == {"used", "max", "idle_in_transaction"}
    assert summary["status"] in ("ok", "warning", "critical")
    assert summary["pg_stat_statements"] is True
    assert summary["connections"]["used"] >= 1
    assert summary["connections"]["max"] == _one(
        "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
    )
    for key in ("slow_queries", "tables_needing_vacuum", "rls_unprotected_tables", "open_events"):
        assert isinstance(summary[key], int) and summary[key] >= 0, key
    assert summary["rls_unprotected_tables"] == 0
    assert dt.datetime.fromisoformat(summary["checked_at"]).tzinfo is not None
    assert set(json.loads(alias) if isinstance(alias, str) else alias) == SUMMARY_KEYS


def test_summary_counts_open_events_and_an_open_critical_event_makes_it_critical(db):
    with service_context():
        _event(severity="info")
        _event(severity="warning", resolved=True)
        assert selectors.database_summary()["open_events"] == 1
        services.monitoring_event_record(event_type="connections", severity="critical", message="95% used")
        summary = selectors.database_summary()
    assert summary["open_events"] == 2
    assert summary["status"] == "critical"


@pytest.mark.parametrize(
    "used, usable, slow, vacuum, unprotected, critical, warning, expected",
    [
        (10, 97, 0, 0, 0, 0, 0, "ok"),
        (72, 97, 0, 0, 0, 0, 0, "ok"),  # 74.2% of usable
        (73, 97, 0, 0, 0, 0, 0, "warning"),  # 75.3%
        (87, 97, 0, 0, 0, 0, 0, "warning"),  # 89.7%
        (80, 97, 0, 0, 0, 0, 0, "warning"),
        (88, 97, 0, 0, 0, 0, 0, "critical"),
        (10, 97, 1, 0, 0, 0, 0, "warning"),
        (10, 97, 0, 1, 0, 0, 0, "warning"),
        (10, 97, 0, 0, 1, 0, 0, "warning"),
        (10, 97, 0, 0, 0, 0, 1, "warning"),
        (10, 97, 0, 0, 0, 1, 0, "critical"),
        (0, 0, 0, 0, 0, 0, 0, "ok"),
    ],
)
def test_overall_status_rule(db, used, usable, slow, vacuum, unprotected, critical, warning, expected):
    assert (
        _one(
            "SELECT monitoring_overall_status(%s, %s, %s, %s, %s, %s, %s)",
            [used, usable, slow, vacuum, unprotected, critical, warning],
        )
        == expected
    )


# --- outsiders see nothing ----------------------------------------------------------


def _outsider_sees_nothing():
    for view in VIEWS:
        assert _one(f"SELECT count(*) FROM {view}") == 0, view
    assert _one("SELECT count(*) FROM monitoring_events") == 0
    assert _one("SELECT count(*) FROM monitoring_slow_query_rows(0, 1)") == 0
    assert _one("SELECT count(*) FROM monitoring_rls_status_in('public')") == 0
    assert selectors.slow_queries() == selectors.connections() == []
    assert selectors.table_health() == selectors.rls_status() == []
    # The summary, and the summary assembled from counts a caller gives (which an outsider cannot
    # use to learn anything: the counts are ignored outside platform contexts).
    for summary in (selectors.database_summary(), selectors.database_summary(counts=(7, 8, 9))):
        assert set(summary) == SUMMARY_KEYS
        assert summary["status"] == "unknown" and summary["pg_stat_statements"] is False
        assert summary["connections"] == {"used": 0, "max": 0, "idle_in_transaction": 0}
        counts = ("slow_queries", "tables_needing_vacuum", "rls_unprotected_tables", "open_events")
        assert [summary[k] for k in counts] == [0] * 4


def test_vendor_and_no_context_see_nothing_from_views_events_or_summary(world):
    with service_context():
        _event(severity="critical")
        _rows("WITH dbmon_outsider_probe AS (SELECT pg_sleep(0.11)) SELECT * FROM dbmon_outsider_probe")
        assert _one("SELECT count(*) FROM monitoring_events") == 1
        for view in VIEWS:
            assert _one(f"SELECT count(*) FROM {view}") > 0, view
    with vendor_context(world.org_a.id, user_id=world.alice.id):
        _outsider_sees_nothing()
    _outsider_sees_nothing()


# --- without pg_stat_statements -------------------------------------------------------


@pytest.fixture
def database_without_pg_stat_statements(db):
    """A scratch database made by the owner from template0 (no extension), with the SQL of the views loaded."""
    import importlib

    from django.db.migrations import RunSQL

    owner = settings.DATABASE_OWNER
    name = f"{connection.settings_dict['NAME']}_nopgss"[:63]
    params = {
        "host": owner["HOST"],
        "port": owner["PORT"] or 5432,
        "user": owner["USER"],
        "password": owner["PASSWORD"],
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        with psycopg.connect(dbname=name, autocommit=True, **params) as conn:
            conn.execute("SET check_function_bodies = off")  # monitoring_events is not needed to define the views
            for module in ("wedsync_ops.tenancy.migrations.0001_initial", "dbmonitor.migrations.0003_views"):
                for operation in importlib.import_module(module).Migration.operations:
                    if isinstance(operation, RunSQL):
                        conn.execute(operation.sql)
            yield conn
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_slow_queries_view_exists_with_no_rows_when_pg_stat_statements_is_not_installed(
    database_without_pg_stat_statements,
):
    conn = database_without_pg_stat_statements
    with conn.transaction():
        conn.execute("SELECT set_config('app.role', 'staff', true)")
        assert conn.execute("SELECT pg_stat_statements_available()").fetchone() == (False,)
        assert conn.execute("SELECT count(*) FROM monitoring_slow_queries").fetchone() == (0,)
        cur = conn.execute("SELECT * FROM monitoring_slow_queries LIMIT 0")
        columns = [c.name for c in cur.description]
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM monitoring_slow_queries LIMIT 0")
        assert columns == [c.name for c in cur.description]
    assert "source" in columns


# --- the page and the admin ----------------------------------------------------------------


def test_ops_db_page_shows_every_section_to_staff(client, world):
    client.force_login(world.staff)
    response = client.get("/ops/db/")
    assert response.status_code == 200
    body = response.content.decode()
    for anchor in ('id="slow-queries"', 'id="connections"', 'id="tables"', 'id="rls"'):
        assert anchor in body, anchor
    assert "monitoring_events" in body and "user_profiles" in body
    assert response.context["summary"]["status"] in ("ok", "warning", "critical")
    assert response.context["connections"] and response.context["rls"]


@pytest.mark.parametrize("who", ["alice", "bob", "charlie"])
def test_ops_db_page_is_404_for_non_staff(client, world, who):
    client.force_login(getattr(world, who))
    assert client.get("/ops/db/").status_code == 404


def test_ops_db_page_sends_anonymous_visitors_to_login(client, db):
    response = client.get("/ops/db/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/ops/db/"


def test_ops_db_page_explains_how_to_enable_pg_stat_statements_when_unavailable(db):
    summary = {
        "status": "ok",
        "checked_at": "2026-06-13T12:00:00+00:00",
        "connections": {"used": 1, "max": 97, "idle_in_transaction": 0},
        "slow_queries": 0,
        "pg_stat_statements": False,
        "tables_needing_vacuum": 0,
        "rls_unprotected_tables": 0,
        "open_events": 0,
    }
    html = render_to_string(
        "dbmonitor/db.html",
        {
            "summary": summary,
            "status_badge": {"css": "badge--ok", "shape": "✓"},
            "slow_queries": [],
            "connections": [],
            "tables": [],
            "rls": [],
        },
    )
    assert "pg_stat_statements is unavailable" in html
    assert "shared_preload_libraries" in html and "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" in html


def test_admin_lists_events_and_marks_them_resolved(client, world):
    admin_user = get_user_model().objects.create_superuser("ops-admin", "ops@example.com", "pw-ops-admin-123")
    with service_context():
        event = _event(severity="critical", event_type="connections")
        other = _event(severity="info", event_type="vacuum")
    client.force_login(admin_user)
    listing = client.get("/admin/dbmonitor/monitoringevent/", {"severity__exact": "critical", "q": "connections"})
    assert listing.status_code == 200
    assert [e.id for e in listing.context["cl"].result_list] == [event.id]
    assert "connections 0:00:00" in listing.content.decode() and "vacuum 0:00:00" not in listing.content.decode()
    response = client.post(
        "/admin/dbmonitor/monitoringevent/",
        {"action": "mark_resolved", "_selected_action": [str(event.id)]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 event(s) marked resolved." in response.content.decode()
    with service_context():
        assert MonitoringEvent.objects.get(id=event.id).resolved is True
        assert MonitoringEvent.objects.get(id=other.id).resolved is False
