"""The SQL contract objects of apm, each on real data: snapshots, cleanup, and the four monitoring views."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone

from alerts.services import alert_fire
from apm import tasks
from apm.models import ErrorPattern, ServiceHealthCheck
from apm.services import (
    MetricRow,
    ProbeResult,
    errors_ingest,
    health_check_record,
    metrics_aggregate,
    metrics_copy,
    monitoring_data_cleanup,
    system_health_snapshot_capture,
)
from incidents.models import Incident
from incidents.services import incident_create
from wedsync_ops.tenancy.context import service_context, vendor_context
from wedsync_ops.tenancy.models import Wedding


def _rows(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


@pytest.fixture
def platform(world):
    """Real data of both organizations at the database's now(): metrics, errors, checks, an incident, an alert."""
    now = timezone.now()
    world.now = now
    with service_context():
        rows = [
            MetricRow(world.org_a.id, "checkout-api", "http.duration", float(v), now - dt.timedelta(minutes=m))
            for m in range(1, 4)
            for v in (100, 200, 300, 1000)
        ]
        rows.append(MetricRow(world.org_b.id, "gallery", "http.duration", 50.0, now - dt.timedelta(minutes=2)))
        metrics_copy(rows=rows)
        metrics_aggregate(bucket_seconds=60)
        metrics_aggregate(bucket_seconds=3600)
        # Level "error" at ingest (a critical one would open an incident on a wedding day, i.e. on a
        # real Saturday); the pattern is then marked critical for the views.
        report = {"service": "payments", "type": "PaymentError", "message": "card 1 declined", "level": "error"}
        payload = [dict(report, timestamp=(now - dt.timedelta(hours=h)).isoformat()) for h in (1, 2, 3, 30)]
        errors_ingest(organization_id=world.org_a.id, now=now, payload=payload)
        ErrorPattern.objects.update(level="critical")
        world.check = ServiceHealthCheck.objects.create(
            organization=world.org_a, name="stripe", category="payments", url="https://status.example.com/stripe"
        )
        health_check_record(check=world.check, result=ProbeResult(False, 500, 20.0, "HTTP 500"), now=now)
        health_check_record(check=world.check, result=ProbeResult(False, 500, 20.0, "HTTP 500"), now=now)
        health_check_record(check=world.check, result=ProbeResult(False, 500, 20.0, "HTTP 500"), now=now)
        world.incident = incident_create(
            organization=world.org_a, title="Checkout slow", by=world.staff, now=now, priority="p0"
        )
        alert_fire(
            organization_id=world.org_b.id,
            fingerprint="b-1",
            source="rule",
            title="Gallery down",
            labels={},
            annotations={},
            severity="warning",
            priority="medium",
            starts_at=now,
            now=now,
        )
    return world


def test_capture_system_health_snapshot_counts_the_whole_platform(platform):
    with service_context():
        snapshot_id = system_health_snapshot_capture(now=platform.now)
        (snap,) = _rows("SELECT * FROM system_health_snapshots WHERE id = %s", [snapshot_id])
    assert snap["organizations"] == 2
    assert snap["metric_points_last_hour"] == 13
    assert snap["error_reports_last_hour"] == 0  # the latest report is an hour old: not in (now - 1 h, now]
    assert snap["unresolved_error_patterns"] == 1
    assert snap["health_checks_by_status"] in ({"critical": 1}, '{"critical": 1}')
    assert (snap["open_incidents"], snap["open_p0_incidents"], snap["firing_alerts"]) == (1, 1, 1)
    assert snap["database_size_bytes"] > 0 and snap["database_connections"] >= 1


def test_snapshots_are_staff_only_and_need_a_platform_context(platform):
    with service_context():
        system_health_snapshot_capture(now=platform.now)
    with vendor_context(platform.org_a.id):
        assert _rows("SELECT count(*) AS n FROM system_health_snapshots") == [{"n": 0}]
        with pytest.raises(DatabaseError, match="staff or service"):
            system_health_snapshot_capture(now=platform.now)


def test_the_snapshot_task_is_scheduled_every_five_minutes(platform, settings):
    entries = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert entries["apm.tasks.capture_system_health_snapshot"] == 300.0
    assert isinstance(tasks.capture_system_health_snapshot(), int)


def test_cleanup_monitoring_data_keeps_90_days_and_closed_incidents_for_a_year(platform):
    now = platform.now
    with service_context():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT apm_ensure_metric_partitions(%s, %s)",
                [(now - dt.timedelta(days=100)).date(), (now - dt.timedelta(days=100)).date()],
            )
        metrics_copy(rows=[MetricRow(platform.org_a.id, "svc", "m", 1.0, now - dt.timedelta(days=1))])
        with connection.cursor() as cur:  # an old point, as if ingested back then
            cur.execute(
                "INSERT INTO apm_metrics (organization_id, service, metric_name, value, recorded_at)"
                " VALUES (%s, 'svc', 'm', 1, %s)",
                [platform.org_a.id, now - dt.timedelta(days=100)],
            )
        old = incident_create(
            organization=platform.org_a, title="Old outage", by=platform.staff, now=now - dt.timedelta(days=500)
        )
        Incident.objects.filter(pk=old.pk).update(status="closed", closed_at=now - dt.timedelta(days=400))
        recent = incident_create(organization=platform.org_a, title="Recent", by=platform.staff, now=now)
        Incident.objects.filter(pk=recent.pk).update(status="closed", closed_at=now - dt.timedelta(days=30))
        ErrorPattern.objects.update(incident=old)
        deleted = monitoring_data_cleanup(now=now)
        # The old point, the old incident and its timeline row ("created").
        assert deleted == 3
        assert not Incident.objects.filter(pk=old.pk).exists()
        assert Incident.objects.filter(pk=recent.pk).exists()
        assert ErrorPattern.objects.get().incident_id is None
        assert _rows("SELECT count(*) AS n FROM apm_metrics WHERE recorded_at < %s", [now - dt.timedelta(days=90)]) == [
            {"n": 0}
        ]
        assert _rows("SELECT count(*) AS n FROM apm_metrics WHERE recorded_at >= %s", [now - dt.timedelta(days=2)]) == [
            {"n": 14}
        ]
        assert monitoring_data_cleanup(now=now) == 0
    with vendor_context(platform.org_a.id), pytest.raises(DatabaseError, match="staff or service"):
        monitoring_data_cleanup(now=now)


def test_system_health_overview_gives_each_organization_its_state(platform):
    with service_context():
        rows = {r["organization_slug"]: r for r in _rows("SELECT * FROM system_health_overview")}
    a, b = rows["rosewood-florals"], rows["bloom-and-vine"]
    assert (a["open_incidents"], a["unresolved_error_patterns"], a["critical_health_checks"]) == (1, 1, 1)
    assert a["overall_status"] == "critical" and a["last_metric_bucket"] is not None
    assert (b["firing_alerts"], b["open_incidents"], b["overall_status"]) == (1, 0, "warning")
    with vendor_context(platform.org_b.id):
        assert [r["organization_slug"] for r in _rows("SELECT * FROM system_health_overview")] == ["bloom-and-vine"]
    assert _rows("SELECT * FROM system_health_overview") == []


def test_error_trending_analysis_compares_the_last_24_hours_with_the_24_before(platform):
    with service_context():
        (row,) = _rows("SELECT * FROM error_trending_analysis")
    assert (row["reports_last_24h"], row["reports_previous_24h"], row["trend"]) == (3, 1, 3)
    assert row["organization_id"] == platform.org_a.id and row["occurrence_count"] == 4
    with vendor_context(platform.org_b.id):
        assert _rows("SELECT * FROM error_trending_analysis") == []


def test_performance_percentile_analysis_summarises_the_last_24_hours(platform):
    with vendor_context(platform.org_a.id):
        (row,) = _rows("SELECT * FROM performance_percentile_analysis")
    assert (row["service"], row["metric_name"], row["points"]) == ("checkout-api", "http.duration", 12)
    assert row["avg"] == pytest.approx(400.0) and row["max"] == 1000.0
    assert row["worst_hourly_p99"] <= 1000.0 and row["worst_hourly_p50"] >= 150.0


def test_saturday_monitoring_shows_the_protocol_and_what_needs_attention(platform):
    local_today = timezone.now().astimezone(dt.UTC).date()
    with service_context():
        Wedding.objects.create(organization=platform.org_b, wedding_date=local_today, couple_name="C & D")
        rows = {r["organization_slug"]: r for r in _rows("SELECT * FROM saturday_monitoring")}
    a, b = rows["rosewood-florals"], rows["bloom-and-vine"]
    assert a["critical_health_checks"] == 1 and a["critical_errors_24h"] == 1 and a["open_incidents"] == 1
    assert a["wedding_day_protocol"] == a["is_local_saturday"]  # no wedding for A: only a Saturday turns it on
    if b["local_date"] == local_today:
        assert b["weddings_today"] == 1 and b["wedding_day_protocol"] is True
    with vendor_context(platform.org_a.id):
        assert [r["organization_slug"] for r in _rows("SELECT * FROM saturday_monitoring")] == ["rosewood-florals"]
