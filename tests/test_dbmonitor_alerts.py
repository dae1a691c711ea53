"""Database threshold breaches become monitoring events and platform alerts, deduplicated, resolved when cleared."""

import datetime as dt
import threading

import pytest

from alerts.models import AlertHistory
from dbmonitor import conf, selectors, services, tasks
from dbmonitor.models import MonitoringEvent
from dbmonitor.selectors import Finding
from tests.test_dbmonitor_checks import app_connection, wait_for
from wedsync_ops.tenancy.context import service_context, vendor_context

T0 = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def _alerts(**filters):
    return list(AlertHistory.objects.filter(source="dbmonitor", **filters).order_by("starts_at"))


def test_a_blocked_query_fires_one_alert_and_event_that_resolve_when_the_lock_is_released(db, monkeypatch):
    monkeypatch.setattr(conf, "BLOCKED_QUERY_S", 0)
    with app_connection() as holder, app_connection() as waiter:
        holder.execute("SELECT pg_advisory_lock(640002)")
        waiter_pid = waiter.info.backend_pid
        thread = threading.Thread(target=lambda: waiter.execute("SELECT pg_advisory_lock(640002)"))
        thread.start()
        try:
            with service_context():
                wait_for(lambda: [f for f in selectors.findings() if f.check == "blocked_query"], "the blocked query")
                first = services.db_checks_evaluate(now=T0)
                again = services.db_checks_evaluate(now=T0 + MINUTE)
                [alert] = [a for a in _alerts() if a.labels["check"] == "blocked_query"]
                [event] = MonitoringEvent.objects.filter(event_type="blocked_query")
        finally:
            holder.execute("SELECT pg_advisory_unlock(640002)")
            thread.join(10)
        waiter.execute("SELECT pg_advisory_unlock(640002)")
    assert first["fired"] >= 1 and again["fired"] == 0 and again["repeated"] >= 1
    assert alert.organization_id is None and alert.status == "firing" and alert.severity == "warning"
    assert alert.labels["object"].startswith(f"pid {waiter_pid} at ")
    assert alert.last_received_at == T0 + MINUTE
    assert "pg_advisory_lock($1)" in alert.description  # its constants normalised away
    assert event.details["fingerprint"] == alert.fingerprint and event.details["alert_id"] == str(alert.pk)
    assert event.details["pid"] == waiter_pid and event.resolved is False
    with service_context():
        wait_for(lambda: not [f for f in selectors.findings() if f.check == "blocked_query"], "the lock to go")
        cleared = services.db_checks_evaluate(now=T0 + 2 * MINUTE)
        alert.refresh_from_db()
        event.refresh_from_db()
    assert cleared["resolved"] >= 1
    assert alert.status == "resolved" and alert.ends_at == T0 + 2 * MINUTE
    assert event.resolved is True and event.resolved_at == T0 + 2 * MINUTE


def _finding(severity="warning", obj="public.orders_id_seq"):
    return Finding("sequence_exhaustion", obj, severity, f"{obj} at 91%", 0.91, 0.9, "ratio", {"max_value": 100})


def test_findings_are_deduplicated_by_check_object_and_severity(db):
    with service_context():
        services.db_checks_evaluate(now=T0, found=[_finding(), _finding()])
        services.db_checks_evaluate(now=T0 + MINUTE, found=[_finding()])
        assert len(_alerts()) == 1 and MonitoringEvent.objects.count() == 1
        # The same sequence turning critical is a new alert; the warning one resolves.
        result = services.db_checks_evaluate(now=T0 + 2 * MINUTE, found=[_finding("critical")])
        alerts = _alerts()
        events = list(MonitoringEvent.objects.order_by("created_at", "severity"))
    assert result == {"findings": 1, "fired": 1, "repeated": 0, "resolved": 1}
    assert [(a.severity, a.status) for a in alerts] == [("warning", "resolved"), ("critical", "firing")]
    assert alerts[1].incident_id is not None, "critical alerts open an incident through the alerts pipeline"
    assert alerts[1].fingerprint == services.finding_fingerprint(_finding("critical"))
    assert len(alerts[1].fingerprint) == 50 and alerts[1].fingerprint.startswith("dbmonitor:")
    assert alerts[1].value == 0.91 and alerts[1].threshold == 0.9
    assert sorted((e.severity, e.resolved) for e in events) == [("critical", False), ("warning", True)]


def test_evaluation_leaves_other_sources_and_organizations_alone(world):
    with service_context():
        other, _ = AlertHistory.objects.get_or_create(
            source="alertmanager",
            fingerprint="x" * 16,
            organization=world.org_a,
            defaults={"title": "t", "starts_at": T0, "status": "firing"},
        )
        services.db_checks_evaluate(now=T0, found=[_finding()])
        result = services.db_checks_evaluate(now=T0 + MINUTE, found=[])
        other.refresh_from_db()
    assert result["resolved"] == 1 and other.status == "firing"


def test_evaluate_checks_task_runs_the_live_checks(db, monkeypatch):
    monkeypatch.setattr(conf, "XID_TO_FORCED_AUTOVACUUM_WARNING", 10**12)
    counts = tasks.evaluate_checks.apply().get()
    with service_context():
        xid = [a for a in _alerts() if a.labels["check"] == "xid_wraparound"]
    assert counts["findings"] >= 1 and counts["fired"] >= 1
    assert xid and {a.severity for a in xid} == {"warning"}
    assert "public.weddings" in {a.labels["object"] for a in xid}


def test_a_vendor_context_cannot_raise_or_see_database_alerts(world):
    with service_context():
        services.db_checks_evaluate(now=T0, found=[_finding()])
    with vendor_context(world.org_a.id, user_id=world.alice.id):
        assert _alerts() == [] and MonitoringEvent.objects.count() == 0
        assert selectors.findings() == []
    with pytest.raises(ValueError, match="now"):
        services.db_checks_evaluate(now=dt.datetime(2026, 6, 10), found=[])
