"""Organization admins' silences and notification channels on /org/<slug>/alerts/…; outsiders get nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from alerts.models import AlertHistory, SuppressionRule
from alerts.services import alert_fire
from alerts.views import public_https_url_problem
from notifications.models import NotificationChannel
from wedsync_ops.matchers import parse_matcher_text
from wedsync_ops.tenancy.context import service_context

SILENCES = "/org/rosewood-florals/alerts/silences/"
CHANNELS = "/org/rosewood-florals/alerts/channels/"


@pytest.fixture
def firing(world):
    now = timezone.now()
    with service_context():
        alert, _ = alert_fire(
            organization_id=world.org_a.id,
            fingerprint="aaaa000000000001",
            source="alertmanager",
            title="Checkout slow",
            labels={"alertname": "HighCheckoutLatency", "service": "payments"},
            annotations={},
            severity="warning",
            priority="medium",
            starts_at=now,
            now=now,
        )
    return alert


def test_matcher_text_reads_alertmanager_style_matchers():
    assert parse_matcher_text('alertname="High Latency", service=~"pay.*",env!=prod') == [
        {"name": "alertname", "op": "=", "value": "High Latency"},
        {"name": "service", "op": "=~", "value": "pay.*"},
        {"name": "env", "op": "!=", "value": "prod"},
    ]
    with pytest.raises(Exception, match="cannot read a matcher"):
        parse_matcher_text("alertname ~~ x")


def test_org_admin_silences_a_firing_alert_and_expires_the_silence(client, world, firing):
    client.force_login(world.alice)
    response = client.post(
        SILENCES,
        {"action": "create", "matchers": 'alertname="HighCheckoutLatency"', "hours": "2", "comment": "deploying"},
    )
    assert response.status_code == 302
    with service_context():
        silence = SuppressionRule.objects.get()
        assert silence.organization_id == world.org_a.id and silence.created_by_id == world.alice.id
        assert AlertHistory.objects.get(pk=firing.pk).status == "suppressed"
    assert "deploying" in client.get(SILENCES).content.decode()
    assert client.post(SILENCES, {"action": "expire", "silence": str(silence.pk)}).status_code == 302
    with service_context():
        assert AlertHistory.objects.get(pk=firing.pk).status == "firing"


def test_bad_silence_answers_400_naming_the_field_and_stores_nothing(client, world):
    client.force_login(world.alice)
    response = client.post(SILENCES, {"action": "create", "matchers": "%%%", "hours": "2", "comment": "x"})
    assert response.status_code == 400 and "cannot read a matcher" in response.content.decode()
    response = client.post(SILENCES, {"action": "create", "matchers": 'a="b"', "hours": "-1", "comment": "x"})
    assert response.status_code == 400
    with service_context():
        assert SuppressionRule.objects.count() == 0


def test_org_admin_adds_a_webhook_channel_whose_secret_is_never_shown(client, world):
    client.force_login(world.alice)
    response = client.post(
        CHANNELS,
        {
            "action": "create",
            "name": "our pager",
            "kind": "webhook",
            "target": "https://hooks.example.com/T000/secret-path",
            "secret": "s3cr3t-value",
        },
    )
    assert response.status_code == 302
    with service_context():
        channel = NotificationChannel.objects.get()
    assert channel.organization_id == world.org_a.id and channel.config["secret"] == "s3cr3t-value"
    html = client.get(CHANNELS).content.decode()
    assert "our pager" in html and "hooks.example.com" in html
    assert "s3cr3t-value" not in html and "secret-path" not in html
    assert client.post(CHANNELS, {"action": "toggle", "channel": str(channel.pk)}).status_code == 302
    with service_context():
        assert NotificationChannel.objects.get().enabled is False


@pytest.mark.parametrize(
    "target",
    [
        "http://hooks.example.com/x",
        "https://127.0.0.1:6379/",
        "https://10.0.0.5/hook",
        "https://localhost/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest/meta-data",
    ],
)
def test_vendor_channels_cannot_point_at_the_platforms_own_network(client, world, target, settings):
    settings.OUTBOUND_VENDOR_ALLOW_PRIVATE_NETWORKS = []  # production's: vendors reach public addresses only
    assert public_https_url_problem(target)
    client.force_login(world.alice)
    response = client.post(CHANNELS, {"action": "create", "name": "x", "kind": "webhook", "target": target})
    assert response.status_code == 400
    with service_context():
        assert NotificationChannel.objects.count() == 0


def test_members_read_but_cannot_change_and_outsiders_get_404(client, world, firing):
    with service_context():
        from wedsync_ops.tenancy.models import UserProfile

        UserProfile.objects.filter(user=world.alice).update(role="viewer")
        NotificationChannel.objects.create(
            organization=world.org_a, kind="webhook", name="a's hook", config={"url": "https://a.example.com/h"}
        )
        SuppressionRule.objects.create(
            organization=world.org_a,
            kind="silence",
            name='alertname="A"',
            matchers=[{"name": "alertname", "op": "=", "value": "A"}],
            starts_at=timezone.now(),
            ends_at=timezone.now() + dt.timedelta(hours=1),
        )
    client.force_login(world.alice)
    page = client.get(CHANNELS).content.decode()
    assert "a&#x27;s hook" in page and "Add a channel" not in page
    assert (
        client.post(CHANNELS, {"action": "create", "name": "x", "kind": "email", "target": "a@b.c"}).status_code == 404
    )
    client.force_login(world.bob)  # another organization
    for url in (SILENCES, CHANNELS):
        assert client.get(url).status_code == 404
        assert client.post(url, {"action": "create"}).status_code == 404
    client.force_login(world.charlie)
    assert client.get(SILENCES).status_code == 404
