"""The portal watches itself: every beat job's runs are recorded, a stopped beat raises an alert without beat,
and an outside heartbeat URL hears from the portal every minute."""

import datetime as dt
import time

import pytest
from django.conf import settings
from django.utils import timezone

from alerts.models import AlertHistory
from heartbeats import conf
from heartbeats.jobs import beat_jobs, rows_from_result
from heartbeats.models import HeartbeatCheck, HeartbeatFlip, HeartbeatPing, JobRun
from heartbeats.selectors import beat_jobs_status
from heartbeats.services import check_create, heartbeats_cleanup, ping_record
from heartbeats.watch import JOB_GROUP_KEY, external_ping, jobs_watch
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context

S = dt.timedelta(seconds=1)


def record_all_runs(at):
    """One finished run of every beat job, started at ``at``."""
    with service_context():
        for job in beat_jobs().values():
            JobRun.objects.create(
                job=job.name, task=job.task, started_at=at, finished_at=at + S, duration_ms=1000, outcome="success"
            )


def job_alerts():
    with service_context():
        return {a.labels["job"]: a for a in AlertHistory.objects.filter(labels__alertname="BeatJobLate")}


def test_every_beat_entry_is_known_with_its_period(db):
    jobs = beat_jobs()
    assert set(jobs) == set(settings.CELERY_BEAT_SCHEDULE)
    assert jobs["alerts-evaluate-rules"].period_s(WEDNESDAY) == 60
    assert jobs["heartbeats-cleanup"].cron == "41 * * * *" and jobs["heartbeats-cleanup"].period_s(WEDNESDAY) == 3600
    assert jobs["apm-cleanup-monitoring-data"].period_s(WEDNESDAY) == 86400
    assert jobs["apm-cleanup-monitoring-data"].due_after(WEDNESDAY) == dt.datetime(2026, 6, 11, 3, 37, tzinfo=dt.UTC)


def test_a_task_run_records_start_end_outcome_rows_and_result(db, monkeypatch):
    from heartbeats import services, tasks

    monkeypatch.setattr(services, "checks_evaluate", lambda now: {"late": 2, "down": 1, "up": 0, "alerts_fired": 1})
    tasks.evaluate_checks.apply()
    with service_context():
        run = JobRun.objects.get()
    assert (run.job, run.task, run.outcome, run.rows_handled) == (
        "heartbeats-evaluate-checks",
        "heartbeats.tasks.evaluate_checks",
        "success",
        4,
    )
    assert run.result == {"late": 2, "down": 1, "up": 0, "alerts_fired": 1}
    assert run.finished_at >= run.started_at and run.duration_ms >= 0 and run.worker


def test_a_failing_task_records_its_error_and_a_task_beat_does_not_run_records_nothing(db, monkeypatch):
    from heartbeats import services, tasks

    def broken(now):
        raise RuntimeError("database is on fire")

    monkeypatch.setattr(services, "checks_evaluate", broken)
    tasks.evaluate_checks.apply()
    tasks.watch_jobs.apply()  # queued by workers, not by beat: not a beat job
    with service_context():
        (run,) = JobRun.objects.all()
    assert run.outcome == "failure" and run.error == "RuntimeError: database is on fire" and run.rows_handled is None


@pytest.mark.parametrize(
    ("task", "result", "rows"),
    [
        ("x", 7, 7),
        ("x", {"fired": 2, "resolved": 1, "note": "ok"}, 3),
        ("x", [1, 2], 2),
        ("x", None, None),
        ("x", True, None),
        ("dbmonitor.tasks.snapshot", 81234, 1),
        ("dbmonitor.tasks.snapshot", None, None),
    ],
)
def test_rows_handled_are_read_from_the_return_value(task, result, rows):
    assert rows_from_result(task, result) == rows


def test_beat_liveness_is_ok_while_every_job_ran_within_twice_its_period(db):
    now = timezone.now()
    record_all_runs(now - 5 * S)
    status = beat_jobs_status(now)
    assert status.ok and status.stale == []
    assert {j.state for j in status.jobs} == {"ok"}
    later = beat_jobs_status(now + 125 * S)  # 2 min after: every job of a minute or less is stale
    stale = {j.job.name for j in later.stale}
    assert "alerts-evaluate-rules" in stale and "apm-health-checks" in stale
    assert "heartbeats-cleanup" not in stale and "apm-cleanup-monitoring-data" not in stale
    assert not later.ok


def test_beat_liveness_for_a_readiness_probe_is_json_naming_the_stale_jobs(db):
    import json

    from heartbeats.selectors import beat_liveness

    now = timezone.now()
    record_all_runs(now - 5 * S)
    assert beat_liveness(now) == {"ok": True, "checked_at": now.isoformat(), "jobs": len(beat_jobs()), "stale": []}
    later = beat_liveness(now + dt.timedelta(minutes=3))  # no context needed: an anonymous probe can ask
    stale = {j["job"]: j for j in later["stale"]}
    assert later["ok"] is False and stale["alerts-evaluate-rules"]["age_s"] == 185.0
    assert stale["alerts-evaluate-rules"]["period_s"] == 60 and json.loads(json.dumps(later)) == later


def test_a_stopped_beat_raises_one_critical_platform_incident_and_resolves_when_jobs_run_again(db):
    now = timezone.now()
    record_all_runs(now - 10 * S)
    with service_context():
        assert jobs_watch(now=now) == {"stale": 0, "fired": 0, "resolved": 0}
    stopped = now + dt.timedelta(minutes=5)  # beat stopped: no run for five minutes
    with service_context():
        counts = jobs_watch(now=stopped)
        assert jobs_watch(now=stopped + S)["fired"] == 0  # repeats touch the open alerts
    alerts = job_alerts()
    assert counts["fired"] == counts["stale"] == len(alerts) >= 10
    evaluate = alerts["alerts-evaluate-rules"]
    assert (evaluate.organization_id, evaluate.severity, evaluate.source) == (None, "critical", "heartbeat")
    assert evaluate.threshold == 120 and evaluate.value == pytest.approx(311)  # touched by the repeat
    assert evaluate.group_key == JOB_GROUP_KEY
    assert len({a.incident_id for a in alerts.values()}) == 1 and evaluate.incident_id is not None

    record_all_runs(stopped + 2 * S)  # beat is back
    with service_context():
        assert jobs_watch(now=stopped + 3 * S)["resolved"] == len(alerts)
    assert {a.status for a in job_alerts().values()} == {"resolved"}


def test_a_job_that_never_ran_is_stale_once_runs_were_recorded_for_twice_its_period(db):
    now = timezone.now()
    with service_context():
        JobRun.objects.create(
            job="alerts-evaluate-rules",
            task="alerts.tasks.evaluate_rules",
            started_at=now - dt.timedelta(minutes=3),
            outcome="success",
        )
    status = {j.job.name: j for j in beat_jobs_status(now).jobs}
    assert status["apm-aggregate"].state == "stale"  # every minute, never in three minutes of recording
    assert status["heartbeats-cleanup"].state == "never"  # hourly: too early to tell


def test_the_external_ping_reports_success_or_fail_with_the_late_jobs(db, receiver):
    now = timezone.now()
    record_all_runs(now - 5 * S)
    result = external_ping(now=now, url=f"{receiver.url}/ping/0f6b")
    assert result == {"sent": True, "status": 200, "ok": True, "error": ""}
    assert receiver.requests[-1]["path"] == "/ping/0f6b"
    assert b"beat jobs running" in receiver.requests[-1]["body"]
    result = external_ping(now=now + dt.timedelta(minutes=10), url=f"{receiver.url}/ping/0f6b")
    assert result["ok"] is False and receiver.requests[-1]["path"] == "/ping/0f6b/fail"
    assert b"alerts-evaluate-rules (every 60 s): last run" in receiver.requests[-1]["body"]


def test_the_external_ping_is_off_without_a_url_and_survives_an_unreachable_one(db, monkeypatch):
    monkeypatch.setattr(conf, "PING_URL", "")
    assert external_ping(now=timezone.now())["sent"] is False
    result = external_ping(now=timezone.now(), url="http://127.0.0.1:1/ping/x")
    assert result["sent"] is False and result["error"] == "ConnectionError"


def test_the_ping_task_uses_heartbeat_ping_url(db, receiver, monkeypatch):
    from heartbeats.tasks import ping_external

    monkeypatch.setattr(conf, "PING_URL", f"{receiver.url}/ping/abc")
    assert ping_external()["sent"] is True and receiver.requests[0]["path"].startswith("/ping/abc")


def test_cleanup_keeps_the_newest_pings_of_each_check_and_drops_old_flips_and_runs(world, monkeypatch):
    monkeypatch.setattr(conf, "PINGS_KEPT", 3)
    now = WEDNESDAY
    with service_context():
        check = check_create(organization_id=world.org_a.id, name="busy", now=now, period_s=60, grace_s=60)
        for i in range(5):
            ping_record(check=check, kind="success", now=now + i * S)
        HeartbeatFlip.objects.create(
            heartbeat_check=check,
            organization_id=world.org_a.id,
            old_status="up",
            new_status="late",
            reason="late",
            flipped_at=now - dt.timedelta(days=100),
        )
        JobRun.objects.create(job="apm-aggregate", task="apm.tasks.aggregate", started_at=now - dt.timedelta(days=8))
        assert heartbeats_cleanup(now=now) == {"pings": 2, "flips": 1, "job_runs": 1}
        assert list(HeartbeatPing.objects.filter(heartbeat_check=check).order_by("n").values_list("n", flat=True)) == [
            3,
            4,
            5,
        ]
        assert HeartbeatCheck.objects.get(pk=check.pk).n_pings == 5


# --- a real worker, and no beat --------------------------------------------------------------


@pytest.fixture
def watch_every_second(monkeypatch):
    """Workers started after this watch the beat jobs every second (HEARTBEAT_JOB_WATCH_S=1)."""
    monkeypatch.setenv("HEARTBEAT_JOB_WATCH_S", "1")


@pytest.mark.slow
def test_a_worker_without_beat_raises_the_stopped_beat_alert_on_its_own_timer(
    watch_every_second, celery_worker_process
):
    record_all_runs(timezone.now() - dt.timedelta(hours=3))  # the last runs, three hours ago: beat stopped
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not job_alerts():
        assert celery_worker_process.poll() is None, celery_worker_process.stdout.read()
        time.sleep(0.5)
    alerts = job_alerts()
    assert "alerts-evaluate-rules" in alerts and alerts["alerts-evaluate-rules"].severity == "critical"
    with service_context():
        assert not JobRun.objects.filter(
            job="heartbeats-evaluate-checks", started_at__gt=timezone.now() - dt.timedelta(minutes=5)
        ).exists()  # beat really is not running
