"""Exactly one beat: a second beat started by mistake doubles no escalation and no notification.

Real processes: two ``celery beat`` (celery-redbeat, the configured scheduler),
a prefork worker on the ``critical`` queue, a local HTTP receiver as the
incident's webhook channel. The escalation beat runs every second. The second
beat waits for the lock the first holds (it sends nothing), and takes over
when the first is killed; the claims of ``escalations_run`` and of the outbox
keep every step and delivery single throughout.
"""

import datetime as dt
import os
import re

import pytest
import redis
from django.utils import timezone

from incidents.models import EscalationPolicy, EscalationStep, IncidentUpdate
from incidents.services import incident_create
from notifications.models import NotificationChannel, NotificationDelivery
from tests.conftest import TEST_BROKER
from tests.processes import app_env, start_beat, start_worker, stop, wait_until
from wedsync_ops.tenancy.context import service_context

SENT = "Sending due task incidents-escalate-due"


def _sends(log) -> int:
    return log.read_text().count(SENT) if log.exists() else 0


@pytest.mark.slow
def test_two_beats_escalate_and_notify_once(transactional_db, world, receiver, tmp_path):
    redis.Redis.from_url(TEST_BROKER).flushdb()
    with service_context():
        policy = EscalationPolicy.objects.create(organization=world.org_a, name="p", repeat_count=1)
        EscalationStep.objects.create(
            organization=world.org_a, policy=policy, position=1, wait_minutes=5, level="team_lead"
        )
        EscalationStep.objects.create(
            organization=world.org_a, policy=policy, position=2, wait_minutes=60, level="manager"
        )
        NotificationChannel.objects.create(
            organization=world.org_a, kind="webhook", name="hook", config={"url": f"{receiver.url}/hook"}
        )
        incident = incident_create(
            organization=world.org_a,
            title="checkout down",
            by=None,
            priority="p1",
            severity="critical",
            now=timezone.now() - dt.timedelta(minutes=6),
        )
    env = app_env(
        ESCALATION_BEAT_SECONDS=1,
        BEAT_MAX_LOOP_INTERVAL_S=1,
        REDBEAT_LOCK_TIMEOUT_S=4,
        REDBEAT_KEY_PREFIX=f"wedsync-test-beats-{os.getpid()}:",
    )
    logs = {name: tmp_path / f"{name}.log" for name in ("beat_a", "beat_b", "worker")}
    beat_a = start_beat(env, log_path=logs["beat_a"])
    procs = [beat_a]
    try:
        wait_until(lambda: "Acquired lock" in logs["beat_a"].read_text(), timeout=30, what="beat A's lock", proc=beat_a)
        beat_b = start_beat(env, log_path=logs["beat_b"])
        procs.append(beat_b)
        wait_until(lambda: "beat: Starting" in logs["beat_b"].read_text(), timeout=30, what="beat B", proc=beat_b)
        procs.append(start_worker(env, queues="critical", name="critical", concurrency=2, log_path=logs["worker"]))

        def escalated_posts():
            return [b for b in receiver.bodies if b["event"] == "incident.escalated"]

        wait_until(escalated_posts, timeout=60, what="the escalation notification")
        after = _sends(logs["beat_a"])
        wait_until(lambda: _sends(logs["beat_a"]) >= after + 5, timeout=30, what="five more escalation ticks")
        assert "Acquired lock" not in logs["beat_b"].read_text() and _sends(logs["beat_b"]) == 0

        # The active beat dies: the standby takes the lock and ticks on; still nothing doubles.
        os.killpg(beat_a.pid, 9)
        wait_until(
            lambda: "Acquired lock" in logs["beat_b"].read_text(), timeout=30, what="beat B's takeover", proc=beat_b
        )
        wait_until(lambda: _sends(logs["beat_b"]) >= 3, timeout=30, what="beat B's ticks", proc=beat_b)
    finally:
        for proc in procs:
            stop(proc)
    events = sorted(b["event"] for b in receiver.bodies)
    assert events == ["incident.escalated", "incident.opened"], events
    with service_context():
        steps = IncidentUpdate.objects.filter(incident=incident, kind="escalation").values_list("message", flat=True)
        assert len(steps) == 1 and re.search(r"team.lead", steps[0], re.IGNORECASE), list(steps)
        assert NotificationDelivery.objects.filter(incident_id=incident.id).count() == 2
        assert set(NotificationDelivery.objects.values_list("status", flat=True)) == {"delivered"}
