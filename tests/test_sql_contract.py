"""The SQL names other systems rely on (docs/design/sql-contract.md) and the RLS coverage of every tenant table."""

import pytest
from django.db import connection

from wedsync_ops.choices import PG_ENUMS

FOUNDATION_TABLES = [
    "organizations",
    "user_profiles",
    "weddings",
    "apm_metrics",
    "apm_metric_aggregations",
    "alert_configurations",
    "alert_history",
    "notification_channels",
    "incidents",
    "incident_updates",
    "monitoring_events",
    "oncall_schedules",
    "oncall_rotations",
    "oncall_overrides",
]


def _rows(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall()


@pytest.mark.parametrize("type_name", sorted(PG_ENUMS))
def test_django_choices_and_the_database_enum_agree(db, type_name):
    ((labels,),) = _rows(f"SELECT enum_range(NULL::{type_name})::text[]")
    assert labels == [c.value for c in PG_ENUMS[type_name]]


def test_contract_tables_and_views_exist(db):
    names = {r[0] for r in _rows("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace")}
    assert set(FOUNDATION_TABLES) <= names
    assert {"apm_alerts", "apm_incidents"} <= names


def test_every_table_with_organization_id_has_forced_rls_and_a_policy(db):
    rows = _rows(
        """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
        FROM pg_class c
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'organization_id' AND NOT a.attisdropped
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        """
    )
    assert len(rows) >= 10
    unprotected = [name for name, enabled, forced, policies in rows if not (enabled and forced and policies)]
    assert unprotected == []


def test_staff_only_tables_hide_rows_from_vendors(world):
    from wedsync_ops.tenancy.context import service_context, vendor_context

    with service_context():
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO monitoring_events (id, event_type, severity, message, details, resolved, created_at)"
                " VALUES (gen_random_uuid(), 'test', 'warning', 'x', '{}', false, now())"
            )
        assert _rows("SELECT count(*) FROM monitoring_events") == [(1,)]
    with vendor_context(world.org_a.id):
        assert _rows("SELECT count(*) FROM monitoring_events") == [(0,)]


def test_partitions_are_not_reachable_directly_by_the_application_role(db):
    from wedsync_ops.tenancy.context import service_context

    with service_context():
        _rows("SELECT apm_ensure_metric_partitions(current_date, current_date)")
    ((part,),) = _rows("SELECT 'apm_metrics_' || to_char(current_date, 'YYYYMMDD')")
    ((allowed,),) = _rows("SELECT has_table_privilege(current_user, %s, 'SELECT')", [part])
    assert allowed is False


def test_apm_index_names_start_with_idx_apm(db):
    rows = _rows(
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename LIKE 'apm\\_%%'"
        " AND tablename NOT LIKE 'apm\\_metrics\\_2%%'"
    )
    bad = [name for (name,) in rows if not name.startswith("idx_apm_") and not name.endswith("_pkey")]
    assert rows and bad == []


def test_alias_views_run_with_the_callers_rights(db):
    rows = _rows("SELECT relname, reloptions FROM pg_class WHERE relname IN ('apm_alerts', 'apm_incidents') ORDER BY 1")
    assert rows == [("apm_alerts", ["security_invoker=true"]), ("apm_incidents", ["security_invoker=true"])]
