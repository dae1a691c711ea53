"""Flapping detection: an identity opening too often holds its notifications and is marked flapping."""

import datetime as dt

from alerts import conf
from alerts.fingerprint import labels_fingerprint
from alerts.models import AlertHistory
from alerts.services import alert_fire, alert_resolve
from alerts.silences import suppressions_apply
from notifications.models import NotificationChannel, NotificationDelivery
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context

LABELS = {"alertname": "GalleryFlaky", "service": "gallery"}
FP = labels_fingerprint(LABELS)
MINUTE = dt.timedelta(minutes=1)


def cycle(org, at, *, resolve=True):
    with service_context():
        alert, _ = alert_fire(
            organization_id=org.id,
            fingerprint=FP,
            source="alertmanager",
            title="Gallery flaky",
            labels=LABELS,
            annotations={},
            severity="warning",
            priority="medium",
            starts_at=at,
            now=at,
        )
        # The firing notification goes out before it resolves (what the worker does).
        NotificationDelivery.objects.filter(alert_id=alert.pk, status="pending").update(status="delivered")
        if resolve:
            alert_resolve(alert=alert, ends_at=at + MINUTE, now=at + MINUTE)
        return AlertHistory.objects.get(pk=alert.pk)


def firing_deliveries():
    with service_context():
        return NotificationDelivery.objects.filter(event="alert.firing").count()


def test_the_fourth_opening_within_the_window_is_flapping_and_held(world):
    with service_context():
        NotificationChannel.objects.create(kind="webhook", name="ops", config={"url": "http://127.0.0.1:9/"})
    assert (conf.FLAP_MAX_OPENINGS, conf.FLAP_WINDOW_S) == (4, 1800)
    for i in range(3):
        assert not cycle(world.org_a, WEDNESDAY + i * 5 * MINUTE).flapping
    assert firing_deliveries() == 3
    flapping = cycle(world.org_a, WEDNESDAY + 15 * MINUTE, resolve=False)
    assert flapping.flapping and flapping.status == "firing"
    assert flapping.suppression_reason == "flapping: opened 4 times in 30 min"
    assert firing_deliveries() == 3
    with service_context():
        assert suppressions_apply(now=WEDNESDAY + 30 * MINUTE)["released"] == 0  # not yet stable
        assert suppressions_apply(now=WEDNESDAY + 45 * MINUTE)["released"] == 1  # open for 30 min: notify now
        released = AlertHistory.objects.get(pk=flapping.pk)
    assert (released.flapping, released.suppression_reason) == (False, "")
    assert firing_deliveries() == 4


def test_openings_spread_beyond_the_window_do_not_flap(world):
    for i in range(5):
        assert not cycle(world.org_a, WEDNESDAY + i * 20 * MINUTE).flapping


def test_a_flapping_alert_resolving_sends_no_resolution(world):
    with service_context():
        NotificationChannel.objects.create(kind="webhook", name="ops", config={"url": "http://127.0.0.1:9/"})
    for i in range(4):
        cycle(world.org_a, WEDNESDAY + i * MINUTE * 2)
    with service_context():
        assert NotificationDelivery.objects.filter(event="alert.resolved").count() == 3
        assert AlertHistory.objects.filter(flapping=True).count() == 1
