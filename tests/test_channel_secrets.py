"""Channel secrets are encrypted at rest and never shown (issue 13, item 2).

Seen before: a staff user in only the ``support`` group opened any organization's channel in the admin
and read its webhook secret, Slack webhook URL, Twilio token and PagerDuty routing key, because
``notification_channels.config`` was plaintext JSON.
"""

import io

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection

from notifications.models import NotificationChannel
from wedsync_ops.crypto import Undecryptable
from wedsync_ops.tenancy.context import service_context

SECRETS = {
    "webhook": {"url": "https://hooks.example.com/in/TOKEN-webhook-1111", "secret": "SIGNING-secret-2222"},
    "slack": {"webhook_url": "https://hooks.slack.com/services/T0/B0/SLACK-token-3333"},
    "sms": {"account_sid": "AC123", "auth_token": "TWILIO-token-4444", "from": "+15005550006", "to": ["+4479"]},
    "pagerduty": {"routing_key": "PAGERDUTY-routing-key-5555"},
}
PLAIN = [
    "TOKEN-webhook-1111",
    "SIGNING-secret-2222",
    "SLACK-token-3333",
    "TWILIO-token-4444",
    "PAGERDUTY-routing-key-5555",
]


@pytest.fixture
def channels(world):
    with service_context():
        world.channels = {
            kind: NotificationChannel.objects.create(organization=world.org_a, kind=kind, name=kind, config=config)
            for kind, config in SECRETS.items()
        }
    return world


def _raw_rows() -> str:
    with service_context(), connection.cursor() as cur:
        cur.execute("SELECT row_to_json(c)::text FROM notification_channels c")
        return "\n".join(r[0] for r in cur.fetchall())


def test_configs_are_encrypted_at_rest_and_read_back_whole(channels):
    raw = _raw_rows()
    assert all(secret not in raw for secret in PLAIN) and '"config_encrypted":"gAAAAA' in raw
    with service_context():
        for kind, channel in channels.channels.items():
            assert NotificationChannel.objects.get(pk=channel.pk).config == SECRETS[kind]


def test_a_support_agent_in_the_admin_sees_only_the_last_four_characters(channels, client):
    from wedsync_ops.tenancy.groups import sync_staff_groups

    sync_staff_groups()
    channels.staff.groups.add(Group.objects.get(name="support"))
    client.force_login(channels.staff)
    for channel in channels.channels.values():
        response = client.get(f"/admin/notifications/notificationchannel/{channel.pk}/change/")
        assert response.status_code == 200
        html = response.content.decode()
        assert all(secret not in html for secret in PLAIN), channel.kind
    page = client.get(f"/admin/notifications/notificationchannel/{channels.channels['pagerduty'].pk}/change/")
    assert "•••• 5555" in page.content.decode()


def test_the_admin_replaces_a_secret_and_keeps_the_others(channels, client):
    channels.staff.is_superuser = True
    channels.staff.save()
    client.force_login(channels.staff)
    hook = channels.channels["webhook"]
    form = {
        "organization": str(channels.org_a.pk),
        "kind": "webhook",
        "name": "webhook",
        "enabled": "on",
        "disabled_reason": "",
        "settings": "{}",
        "replace_secret": "NEW-signing-secret-6666",
    }
    response = client.post(f"/admin/notifications/notificationchannel/{hook.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    with service_context():
        assert NotificationChannel.objects.get(pk=hook.pk).config == {
            "url": SECRETS["webhook"]["url"],
            "secret": "NEW-signing-secret-6666",
        }
    bad = dict(form, replace_url="https://127.0.0.1:6379/")
    from django.test import override_settings

    with override_settings(OUTBOUND_VENDOR_ALLOW_PRIVATE_NETWORKS=[]):
        response = client.post(f"/admin/notifications/notificationchannel/{hook.pk}/change/", bad)
    assert response.status_code == 200 and "loopback" in response.content.decode()


def test_vendors_see_masks_and_replace_a_secret(channels, client, settings):
    settings.OUTBOUND_VENDOR_ALLOW_PRIVATE_NETWORKS = []
    client.force_login(channels.alice)
    page = client.get("/org/rosewood-florals/alerts/channels/").content.decode()
    assert all(secret not in page for secret in PLAIN) and "signed with •••• 2222" in page
    hook = channels.channels["webhook"]
    url = "/org/rosewood-florals/alerts/channels/"
    refused = client.post(url, {"action": "replace", "channel": str(hook.pk), "target": "https://10.0.0.5/x"})
    assert refused.status_code == 400 and "target" in refused.content.decode()
    assert (
        client.post(url, {"action": "replace", "channel": str(hook.pk), "secret": "rotated-secret-7777"}).status_code
        == 302
    )
    with service_context():
        assert NotificationChannel.objects.get(pk=hook.pk).config["secret"] == "rotated-secret-7777"
    client.force_login(channels.bob)  # another organization's channel: 404
    assert client.post(url, {"action": "replace", "channel": str(hook.pk), "secret": "x"}).status_code == 404


def test_reencrypt_credentials_moves_channel_configs_to_the_newest_key(channels, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    with service_context():
        for channel in channels.channels.values():
            channel.save()  # under the old key
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    out = io.StringIO()
    call_command("reencrypt_credentials", stdout=out)
    assert "4 channel(s) re-encrypted" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [new]
    with service_context():
        for kind, channel in channels.channels.items():
            assert NotificationChannel.objects.get(pk=channel.pk).config == SECRETS[kind]


def test_a_config_no_key_opens_reads_empty_and_survives_a_save(channels, settings):
    written_with = list(settings.FIELD_ENCRYPTION_KEYS)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with service_context():
        channel = NotificationChannel.objects.get(pk=channels.channels["slack"].pk)
        assert isinstance(channel.config, Undecryptable) and channel.config == {}
    from django.utils import timezone

    from notifications.delivery import channel_send_test

    ok, message = channel_send_test(channel=channel, now=timezone.now())  # temporary: never disables the channel
    assert not ok and "cannot be read right now" in message
    with service_context():
        channel.name = "renamed"
        channel.save()
    settings.FIELD_ENCRYPTION_KEYS = written_with  # the key the fixture wrote it with
    with service_context():
        assert NotificationChannel.objects.get(pk=channel.pk).config == SECRETS["slack"]
