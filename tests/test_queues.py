"""Celery queues: routing by task name, escalation before deliveries on `critical`, time limits, stale ticks expire."""

import pytest
import redis
from django.conf import settings
from kombu import Connection

from tests.conftest import TEST_BROKER
from wedsync_ops import queues
from wedsync_ops.celery import app


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("incidents.tasks.escalate_due", "critical"),
        ("oncall.tasks.page_due", "critical"),
        ("notifications.tasks.deliver_notification", "critical"),
        ("notifications.tasks.deliver_notifications", "critical"),  # chunks of a storm
        ("notifications.tasks.deliver_pending", "critical"),
        ("alerts.tasks.repeat_notifications", "critical"),
        ("alerts.tasks.evaluate_rules", "metrics"),
        ("apm.tasks.aggregate", "metrics"),
        ("apm.tasks.poll_providers", "metrics"),
        ("apm.tasks.cleanup_monitoring_data", "maintenance"),
        ("apm.tasks.ensure_partitions", "maintenance"),
        ("dbmonitor.tasks.snapshot", "maintenance"),
        ("apm.tasks.run_health_checks", "default"),
        ("heartbeats.tasks.anything_new", "default"),
    ],
)
def test_tasks_are_routed_by_name(task, queue):
    assert app.amqp.router.route({}, task, (), {}, None)["queue"].name == queue


def test_every_registered_task_has_a_queue_and_time_limits():
    app.loader.import_default_modules()
    ours = [t for name, t in app.tasks.items() if not name.startswith("celery.")]
    assert len(ours) >= 15
    for task in ours:
        assert queues.policy_for(task.name).queue in queues.QUEUES
        assert 0 < task.soft_time_limit < task.time_limit, task.name


def test_short_period_beat_entries_expire_after_their_period_and_crontabs_do_not():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["incidents-escalate-due"]["options"]["expires"] == 60.0
    assert schedule["apm-health-checks"]["options"]["expires"] == 10.0
    assert "options" not in schedule["apm-cleanup-monitoring-data"]


def test_an_escalation_published_after_a_delivery_backlog_is_consumed_first():
    """Real Redis transport: the critical queue serves priority 0 (escalation) before 3 (deliveries)."""
    redis.Redis.from_url(TEST_BROKER).flushdb()
    for i in range(5):
        app.send_task("notifications.tasks.deliver_notification", args=[f"d{i}"])
    app.send_task("incidents.tasks.escalate_due")
    with Connection(TEST_BROKER) as conn:
        queue = conn.SimpleQueue("critical")
        names = []
        for _ in range(6):
            message = queue.get(timeout=5)
            names.append(message.headers["task"])
            message.ack()
        queue.close()
    assert names[0] == "incidents.tasks.escalate_due"
    assert names[1:] == ["notifications.tasks.deliver_notification"] * 5
