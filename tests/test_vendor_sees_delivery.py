"""Vendors see whether they will actually be notified.

Seen before: a vendor's https webhook channel had six deliveries stuck "connection failed", yet the
channels page said "enabled" and Wedding readiness said "ready — you are notified".
"""

import datetime as dt
import re

import pytest
import redis
from django.utils import timezone

from notifications.models import DeliveryAttempt, NotificationChannel, NotificationDelivery
from tests.conftest import redis_db_url
from wedsync_ops.tenancy.context import service_context

CHANNELS = "/org/rosewood-florals/alerts/channels/"
HOME = "/org/rosewood-florals/"


@pytest.fixture
def hook(world, receiver, monkeypatch, settings):
    """Rosewood's webhook at the local receiver (tests may reach loopback), test rate in a private Redis db."""
    from notifications import conf

    url = redis_db_url(11)
    redis.Redis.from_url(url).flushdb()
    monkeypatch.setattr(conf, "RATE_REDIS_URL", url)
    monkeypatch.setattr(conf, "TEST_RATE", "2/10minute")
    with service_context():
        world.hook = NotificationChannel.objects.create(
            organization=world.org_a, kind="webhook", name="shop hook", config={"url": receiver.url + "/shop"}
        )
    world.receiver = receiver
    return world


def _row(html: str, name: str) -> str:
    return next(r for r in html.split("<tr")[1:] if name in r)


def _check(html: str, name: str) -> str:
    """The readiness list item named ``name``."""
    return next(li for li in _readiness(html).split("<li>")[1:] if name in li)


def _readiness(html: str) -> str:
    return html[html.index('id="readiness"') : html.index('id="weddings"')]


def _stuck(world, n=6):
    now = timezone.now()
    with service_context():
        for i in range(n):
            d = NotificationDelivery.objects.create(
                organization=world.org_a,
                channel=world.hook,
                event="alert.firing",
                step=i,
                payload={"title": "x"},
                status="pending",
                attempts=3,
                last_error="connection failed: refused",
            )
            DeliveryAttempt.objects.create(
                organization=world.org_a,
                channel=world.hook,
                delivery=d,
                ok=False,
                error="connection failed: [Errno 111] refused",
                duration_ms=3,
                attempted_at=now - dt.timedelta(minutes=i),
            )


def test_a_failing_channel_says_so_and_readiness_names_it(client, hook):
    _stuck(hook)
    client.force_login(hook.alice)
    row = _row(client.get(CHANNELS).content.decode(), "shop hook")
    assert "failing" in row and "the receiver could not be reached" in row
    assert re.search(r'class="num">6</td>', row)  # failures in the last 24 h
    assert "6 waiting to be retried" in row
    assert "Errno" not in row  # the receiver's own text is staff-only
    notified = _check(client.get(HOME).content.decode(), "you are notified")
    assert "to do" in notified and "failing: shop hook (the receiver could not be reached)" in notified


def test_a_test_notification_from_the_page_confirms_the_channel_and_is_rate_limited(client, hook):
    client.force_login(hook.alice)
    sent = client.post(CHANNELS, {"action": "test", "channel": str(hook.hook.pk)}, follow=True).content.decode()
    assert "shop hook: test delivered, HTTP 200" in sent
    assert hook.receiver.json()["event"] == "test"
    assert "working" in _row(sent, "shop hook")
    notified = _check(client.get(HOME).content.decode(), "you are notified")
    assert "shop hook delivered within the last 7 days" in notified and "ready" in notified
    client.post(CHANNELS, {"action": "test", "channel": str(hook.hook.pk)})
    limited = client.post(CHANNELS, {"action": "test", "channel": str(hook.hook.pk)}, follow=True).content.decode()
    assert "Too many tests of &#x27;shop hook&#x27;" in limited or "Too many tests of 'shop hook'" in limited
    assert len(hook.receiver.requests) == 2


def test_an_old_success_does_not_keep_readiness_green(client, hook):
    with service_context():
        DeliveryAttempt.objects.create(
            organization=hook.org_a,
            channel=hook.hook,
            test=True,
            ok=True,
            attempted_at=timezone.now() - dt.timedelta(days=8),
            duration_ms=5,
        )
    client.force_login(hook.alice)
    notified = _check(client.get(HOME).content.decode(), "you are notified")
    assert "to do" in notified and "no channel has delivered yet" in notified


def test_members_cannot_send_tests_and_outsiders_get_404(client, hook):
    client.force_login(hook.bob)  # bloom-and-vine
    assert client.get(CHANNELS).status_code == 404
    assert client.post(CHANNELS, {"action": "test", "channel": str(hook.hook.pk)}).status_code == 404
    assert hook.receiver.requests == []
