"""/ops/db/ sections (checks, history charts, Django migrations), admin of snapshots, and
GET /api/monitoring/performance (staff only)."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from dbmonitor import selectors, services
from tests.factories import make_user_token
from wedsync_ops.tenancy.context import service_context

API = "/api/monitoring/performance"
REPORT_KEYS = {
    "summary",
    "slow_queries",
    "connections",
    "table_health",
    "rls_status",
    "checks",
    "findings",
    "thresholds",
}
CHECK_KEYS = {
    "long_running_queries",
    "blocked_queries",
    "cache_hit_ratios",
    "unused_indexes",
    "duplicate_indexes",
    "missing_index_candidates",
    "table_bloat",
    "index_bloat",
    "xid_wraparound",
    "sequences",
    "replication",
    "stats_info",
}


def test_ops_db_page_shows_checks_history_and_migrations_to_staff(client, world):
    now = timezone.now()
    with service_context():
        for i in range(3, 0, -1):
            services.db_snapshot_capture(now=now - i * dt.timedelta(minutes=1))
    client.force_login(world.staff)
    response = client.get("/ops/db/")
    body = response.content.decode()
    assert response.status_code == 200
    for anchor in (
        "findings",
        "activity",
        "blocked",
        "indexes",
        "unused-indexes",
        "duplicate-indexes",
        "missing-indexes",
        "bloat",
        "maintenance",
        "wraparound",
        "sequences",
        "replication",
        "history",
        "migrations",
        "chart-connections",
        "chart-statement-time",
        "chart-cache-hit",
    ):
        assert f'id="{anchor}"' in body, anchor
    assert body.count('class="trend-chart"') == 5
    assert "not enough history yet" not in body.split('id="chart-connections"')[1].split("</svg>")[0]
    assert 'id="migrations-all-applied"' in body and "0005_checks" in body
    assert response.context["trends"]["points"] == 3
    assert set(response.context["checks"]) == CHECK_KEYS


def test_migrations_page_lists_an_unapplied_migration(client, world):
    with connection.cursor() as cur:  # rolled back with the test
        cur.execute("DELETE FROM django_migrations WHERE app = 'dbmonitor' AND name = '0005_checks'")
    rows = {(m["app"], m["name"]): m for m in selectors.migrations_status()}
    assert rows[("dbmonitor", "0005_checks")]["applied"] is False
    assert rows[("dbmonitor", "0004_history")]["applied"] is True and rows[("dbmonitor", "0004_history")]["applied_at"]
    order = list(rows)
    assert order.index(("dbmonitor", "0004_history")) < order.index(("dbmonitor", "0005_checks"))
    client.force_login(world.staff)
    body = client.get("/ops/db/").content.decode()
    pending = body.split('id="migrations-pending"')[1].split("</section>")[0]
    assert "1 migration not applied." in pending and "0005_checks" in pending


def test_performance_api_returns_summary_views_and_checks_to_staff(client, world):
    token = make_user_token(world.staff)
    response = client.get(API, {"limit": "5"}, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == REPORT_KEYS and set(data["checks"]) == CHECK_KEYS
    assert data["summary"]["status"] in ("ok", "warning", "critical")
    assert data["connections"] and data["rls_status"] and len(data["table_health"]) <= 5
    assert data["thresholds"]["SLOW_QUERY_MS"] == 100.0 and data["thresholds"]["UNUSED_INDEX_MAX_SCANS"] == 50
    client.force_login(world.staff)
    assert client.get(API).status_code == 200


@pytest.mark.parametrize("limit", ["0", "1001", "ten"])
def test_performance_api_rejects_a_bad_limit(client, world, limit):
    client.force_login(world.staff)
    response = client.get(API, {"limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()


@pytest.mark.parametrize("who", ["alice", "bob", "charlie"])
def test_performance_api_is_404_for_vendors_and_users_without_organization(client, world, who):
    token = make_user_token(getattr(world, who))
    response = client.get(API, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 404
    assert "summary" not in response.content.decode()
    client.force_login(getattr(world, who))
    assert client.get(API).status_code == 404


def test_performance_api_refuses_anonymous_callers(client, db):
    response = client.get(API)
    assert response.status_code in (401, 403)
    assert "summary" not in response.content.decode()


def test_admin_lists_snapshots_read_only(client, world):
    admin_user = get_user_model().objects.create_superuser("ops-admin", "ops@example.com", "pw-ops-admin-123")
    with service_context():
        snap = services.db_snapshot_capture(now=dt.datetime(2026, 6, 13, 12, 0, tzinfo=dt.UTC))
    client.force_login(admin_user)
    listing = client.get("/admin/dbmonitor/dbsnapshot/")
    assert listing.status_code == 200
    assert [s.id for s in listing.context["cl"].result_list] == [snap]
    assert client.get("/admin/dbmonitor/dbsnapshot/add/").status_code == 403
    detail = client.get(f"/admin/dbmonitor/dbsnapshot/{snap}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
