"""Automated recovery (issue 18 §3): runbook actions run when an alert fires, through the SSRF-safe client
to a local recording HTTP server (the outside world), logged with outcome and duration, on the incident
timeline; wedding-day policies; not recovering escalates as usual; RLS as the application role."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection

from alerts.models import AlertHistory
from alerts.services import alert_fire
from incidents import conf
from incidents.beat import BEAT_SCHEDULE
from incidents.escalation import escalations_run
from incidents.models import AutoRecoveryLog, Incident, IncidentUpdate, RecoveryAction
from incidents.recovery import action_target_problem, recovery_approve, recovery_check, recovery_run, recovery_start
from incidents.runbooks import runbook_save
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context, vendor_context
from wedsync_ops.tenancy.models import Wedding

MIN = dt.timedelta(minutes=1)
T0 = WEDNESDAY


@pytest.fixture
def recovery(world, receiver, monkeypatch):
    """org A: a runbook for CheckoutDown with an HTTP action to the recording server; allow-lists set."""
    monkeypatch.setattr(conf, "AUTO_RECOVERY_HTTP_ALLOWLIST", [f"{receiver.url}/recover/"])
    monkeypatch.setattr(conf, "AUTO_RECOVERY_TASKS", ["apm.tasks.run_health_checks"])
    with service_context():
        world.runbook = runbook_save(
            title="Checkout down",
            content="1. Restart the checkout workers.",
            by=None,
            now=T0,
            organization=world.org_a,
            alertname="CheckoutDown",
        )
        world.action = RecoveryAction(
            organization=world.org_a,
            runbook=world.runbook,
            name="restart checkout",
            kind="http",
            target=f"{receiver.url}/recover/checkout",
            payload={"pool": "web"},
            wedding_day_policy="approval_on_wedding_days",
            recovery_window_minutes=5,
        )
        world.action.full_clean()
        world.action.save()
    world.receiver = receiver
    return world


def _fire(world, at=T0, fingerprint="checkout-1"):
    alert, _ = alert_fire(
        organization_id=world.org_a.id,
        fingerprint=fingerprint,
        source="rule",
        title="Checkout down",
        labels={"alertname": "CheckoutDown", "service": "checkout"},
        annotations={},
        severity="critical",
        priority="high",
        starts_at=at,
        now=at,
    )
    return alert


def test_an_http_action_runs_when_the_alert_fires_and_its_run_is_logged_and_on_the_timeline(recovery):
    with service_context():
        alert = _fire(recovery)
        assert recovery_start(now=T0 + 15 * dt.timedelta(seconds=1)) == {
            "pending": 1,
            "awaiting_approval": 0,
            "skipped": 0,
        }
        assert recovery_start(now=T0 + 30 * dt.timedelta(seconds=1))["pending"] == 0  # once per alert
        log = AutoRecoveryLog.objects.get()
        done = recovery_run(log_id=log.pk, now=T0 + MIN)
        assert recovery_run(log_id=log.pk, now=T0 + MIN) is None  # claimed once
        timeline = list(
            IncidentUpdate.objects.filter(incident_id=alert.incident_id, kind="recovery")
            .order_by("created_at")
            .values_list("message", flat=True)
        )
    (request,) = recovery.receiver.requests
    assert request["path"] == "/recover/checkout"
    assert recovery.receiver.json() == {"alert": str(alert.pk), "pool": "web"}
    assert (done.status, done.http_status, done.incident_id) == ("succeeded", 200, alert.incident_id)
    assert done.duration_ms > 0 and done.window_ends_at > done.finished_at
    assert done.window_ends_at - done.finished_at == 5 * MIN
    assert "running it now" in timeline[0] and "ran: HTTP 200 in" in timeline[1]


def test_an_alert_resolved_within_the_window_is_recovered(recovery):
    from alerts.services import alert_resolve

    with service_context():
        alert = _fire(recovery)
        recovery_start(now=T0)
        log = recovery_run(log_id=AutoRecoveryLog.objects.get().pk, now=T0 + MIN)
        assert recovery_check(now=T0 + 2 * MIN) == {"recovered": 0, "not_recovered": 0}  # still firing, in window
        alert_resolve(alert=AlertHistory.objects.get(pk=alert.pk), ends_at=T0 + 3 * MIN, now=T0 + 3 * MIN)
        assert recovery_check(now=T0 + 3 * MIN) == {"recovered": 1, "not_recovered": 0}
        log.refresh_from_db()
        last = IncidentUpdate.objects.filter(kind="recovery").order_by("-created_at").first().message
    assert log.recovered is True and "recovered alert" in last


def test_an_action_that_does_not_recover_the_alert_leaves_escalation_as_usual(recovery):
    with service_context():
        alert = _fire(recovery)
        recovery_start(now=T0)
        recovery_run(log_id=AutoRecoveryLog.objects.get().pk, now=T0 + 10 * dt.timedelta(seconds=1))
        assert recovery_check(now=T0 + 4 * MIN) == {"recovered": 0, "not_recovered": 0}
        assert recovery_check(now=T0 + 6 * MIN) == {"recovered": 0, "not_recovered": 1}
        log = AutoRecoveryLog.objects.get()
        last = IncidentUpdate.objects.filter(kind="recovery").order_by("-created_at").first().message
        counts = escalations_run(now=T0 + 6 * MIN)  # the default 5-minute step is taken as ever
        incident = Incident.objects.get(pk=alert.incident_id)
    assert log.recovered is False and "did not recover" in last and "escalation goes on as usual" in last
    assert counts["incidents"] == 1 and incident.escalation_step == 1


def test_a_failing_endpoint_is_logged_as_failed(recovery):
    recovery.receiver.statuses = [503]
    with service_context():
        _fire(recovery)
        recovery_start(now=T0)
        log = recovery_run(log_id=AutoRecoveryLog.objects.get().pk, now=T0 + MIN)
    assert (log.status, log.http_status) == ("failed", 503) and "HTTP 503" in log.outcome


def test_on_a_wedding_day_an_action_waits_for_an_on_call_persons_approval(recovery, client):
    with service_context():
        Wedding.objects.create(organization=recovery.org_a, wedding_date=T0.date(), couple_name="Ana & Ben")
        alert = _fire(recovery)
        assert recovery_start(now=T0)["awaiting_approval"] == 1
        log = AutoRecoveryLog.objects.get()
    assert recovery.receiver.requests == [] and log.wedding_day is True
    client.force_login(recovery.staff)  # staff, but not on call
    page = client.get(f"/ops/incidents/{alert.incident_id}/").content.decode()
    assert "Automated recovery" in page and "Approve and run" in page
    refused = client.post(f"/ops/incidents/{alert.incident_id}/", {"action": "approve_recovery", "log": str(log.pk)})
    assert refused.status_code == 400 and "on-call" in refused.content.decode()
    recovery.staff.groups.add(Group.objects.get_or_create(name="on_call")[0])
    done = client.post(f"/ops/incidents/{alert.incident_id}/", {"action": "approve_recovery", "log": str(log.pk)})
    assert done.status_code == 302
    with service_context():
        log.refresh_from_db()
        assert (log.status, log.approved_by_id) == ("pending", recovery.staff.pk)
        with pytest.raises(ValidationError):
            recovery_approve(log=log, by=recovery.staff, now=T0)  # not waiting any more
        recovery_run(log_id=log.pk, now=T0 + MIN)
    assert len(recovery.receiver.requests) == 1


def test_an_off_wedding_days_action_is_skipped_on_a_wedding_day(recovery):
    with service_context():
        RecoveryAction.objects.filter(pk=recovery.action.pk).update(wedding_day_policy="off_wedding_days")
        Wedding.objects.create(organization=recovery.org_a, wedding_date=T0.date(), couple_name="Ana & Ben")
        _fire(recovery)
        assert recovery_start(now=T0)["skipped"] == 1
        log = AutoRecoveryLog.objects.get()
    assert log.status == "skipped" and "not run on a wedding day" in log.outcome


def test_a_task_action_sends_an_allow_listed_celery_task(recovery):
    with service_context():
        RecoveryAction.objects.filter(pk=recovery.action.pk).update(
            kind="task", target="apm.tasks.run_health_checks", payload={}
        )
        _fire(recovery)
        recovery_start(now=T0)
        log = recovery_run(log_id=AutoRecoveryLog.objects.get().pk, now=T0 + MIN)
    assert log.status == "succeeded" and log.outcome.startswith("task apm.tasks.run_health_checks queued")


def test_only_allow_listed_targets_are_accepted_and_run(recovery):
    good = f"{recovery.receiver.url}/recover/x"
    assert action_target_problem(kind="http", target=good) == ""
    assert "allow-listed" in action_target_problem(kind="http", target=f"{recovery.receiver.url}/admin/")
    assert "allow-listed" in action_target_problem(kind="http", target="http://169.254.169.254/recover/")
    assert "allow-listed" in action_target_problem(kind="task", target="incidents.tasks.escalate_due")
    with service_context():
        bad = RecoveryAction(
            organization=recovery.org_a,
            runbook=recovery.runbook,
            name="evil",
            kind="http",
            target="http://169.254.169.254/latest/meta-data/",
        )
        with pytest.raises(ValidationError, match="allow-listed"):
            bad.full_clean()
        _fire(recovery)
        recovery_start(now=T0)
    conf.AUTO_RECOVERY_HTTP_ALLOWLIST = []  # taken off the list after it was configured: refused at run time
    with service_context():
        log = recovery_run(log_id=AutoRecoveryLog.objects.get().pk, now=T0 + MIN)
    assert log.status == "failed" and log.outcome.startswith("refused") and recovery.receiver.requests == []


@pytest.mark.parametrize("table", ["recovery_actions", "auto_recovery_logs"])
def test_an_outsider_sees_no_recovery_rows(recovery, table):
    with service_context():
        _fire(recovery)
        recovery_start(now=T0)
    with vendor_context(recovery.org_a.id), connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed names)
        assert cur.fetchone()[0] == 1
    with vendor_context(recovery.org_b.id), connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
        assert cur.fetchone()[0] == 0
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
        assert cur.fetchone()[0] == 0


def test_the_recovery_beats_are_scheduled():
    schedule = {e["task"]: e["schedule"] for e in BEAT_SCHEDULE.values()}
    assert schedule["incidents.tasks.recovery_start"] == 15.0 and schedule["incidents.tasks.recovery_check"] == 30.0
