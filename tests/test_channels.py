"""Notification channels against real local servers: webhook (HMAC), Slack, PagerDuty Events v2, Twilio SMS, email.

HTTP receivers are ``http.server`` threads that record requests and answer
with scripted statuses; email goes to a local aiosmtpd SMTP server.
"""

import base64
import email
import email.policy
import hashlib
import hmac
import json
from urllib.parse import parse_qs

import pytest

from alerts.models import AlertHistory
from notifications import conf
from notifications.delivery import channel_send_test, delivery_send
from notifications.models import DeliveryAttempt, NotificationChannel, NotificationDelivery
from notifications.transports import SIGNATURE_HEADER, TransportError, transport_for
from tests.conftest import WEDNESDAY
from tests.factories import notify
from wedsync_ops.tenancy.context import service_context, vendor_context

PAYLOAD = {
    "event": "alert.firing",
    "kind": "alert",
    "id": "3f1c9c4e-0000-4000-8000-000000000001",
    "title": "Checkout p95 912 ms > 500 ms",
    "status": "firing",
    "severity": "critical",
    "priority": "high",
    "organization": "rosewood-florals",
    "labels": {"service": "payments"},
    "starts_at": "2026-06-13T12:00:00+00:00",
    "url": "http://127.0.0.1:8000/admin/alerts/alerthistory/x/change/",
}


KEY = "3f1c9c4e-0000-4000-8000-0000000000aa"


def channel(kind, config):
    return NotificationChannel(kind=kind, name=f"{kind} test", config=config)


# --- webhook with HMAC-SHA256 -----------------------------------------------------------


def test_webhook_signs_the_exact_body_with_hmac_sha256(receiver):
    transport_for(channel("webhook", {"url": receiver.url + "/hook", "secret": "s3cret"})).send(PAYLOAD, key=KEY)
    request = receiver.requests[0]
    expected = "sha256=" + hmac.new(b"s3cret", request["body"], hashlib.sha256).hexdigest()
    assert request["headers"][SIGNATURE_HEADER] == expected
    assert request["headers"]["X-WedSync-Event"] == "alert.firing"
    # The delivery's stable key, so a receiver can drop the re-send that follows a worker crash.
    assert request["headers"]["X-WedSync-Delivery"] == request["headers"]["Idempotency-Key"] == KEY
    assert json.loads(request["body"]) == PAYLOAD


def test_webhook_without_secret_sends_no_signature(receiver):
    transport_for(channel("webhook", {"url": receiver.url})).send(PAYLOAD, key=KEY)
    assert SIGNATURE_HEADER not in receiver.requests[0]["headers"]


# --- Slack ---------------------------------------------------------------------------------


def test_slack_posts_text_and_blocks_and_only_its_documented_errors_are_permanent(receiver):
    slack = transport_for(channel("slack", {"webhook_url": receiver.url + "/services/T/B/X"}))
    assert slack.send(PAYLOAD, key=KEY)["status_code"] == 200
    body = receiver.json()
    assert body["text"] == "[FIRING] critical rosewood-florals: Checkout p95 912 ms > 500 ms"
    assert PAYLOAD["url"] in json.dumps(body["blocks"])
    receiver.statuses = [(404, "channel_not_found")]
    with pytest.raises(TransportError) as err:
        slack.send(PAYLOAD, key=KEY)
    assert err.value.permanent and err.value.status_code == 404 and err.value.reason == "Slack says channel_not_found"
    receiver.statuses = [(403, "invalid_token")]
    with pytest.raises(TransportError) as err:
        slack.send(PAYLOAD, key=KEY)
    assert err.value.permanent
    receiver.statuses = [404]  # a 404 without Slack's code: a proxy during a deploy, retried
    with pytest.raises(TransportError) as err:
        slack.send(PAYLOAD, key=KEY)
    assert not err.value.permanent
    receiver.statuses = [429]
    with pytest.raises(TransportError) as err:
        slack.send(PAYLOAD, key=KEY)
    assert not err.value.permanent


# --- PagerDuty Events v2 ------------------------------------------------------------------


def test_pagerduty_trigger_and_resolve_share_a_stable_dedup_key(receiver, monkeypatch):
    monkeypatch.setattr(conf, "PAGERDUTY_EVENTS_URL", receiver.url + "/v2/enqueue")
    receiver.statuses = [202, 202]
    pd = transport_for(channel("pagerduty", {"routing_key": "R" * 32}))
    pd.send(PAYLOAD, key=KEY)
    pd.send(dict(PAYLOAD, event="alert.resolved", status="resolved"), key=KEY)
    trigger, resolve = receiver.json(0), receiver.json(1)
    assert receiver.requests[0]["path"] == "/v2/enqueue"
    assert trigger["event_action"] == "trigger" and resolve["event_action"] == "resolve"
    assert trigger["dedup_key"] == resolve["dedup_key"] == f"wedsync-alert-{PAYLOAD['id']}"
    assert trigger["routing_key"] == "R" * 32
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["source"] == "rosewood-florals"
    assert "payload" not in resolve


def test_pagerduty_invalid_routing_key_is_permanent_and_another_400_is_not(receiver, monkeypatch):
    monkeypatch.setattr(conf, "PAGERDUTY_EVENTS_URL", receiver.url + "/v2/enqueue")
    pd = transport_for(channel("pagerduty", {"routing_key": "short"}))
    refusal = {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"],
    }
    receiver.statuses = [(400, json.dumps(refusal))]
    with pytest.raises(TransportError) as err:
        pd.send(PAYLOAD, key=KEY)
    assert err.value.permanent and err.value.reason == "PagerDuty says the routing key is invalid"
    receiver.statuses = [(400, json.dumps({"status": "invalid event", "errors": ["'payload.summary' is missing"]}))]
    with pytest.raises(TransportError) as err:
        pd.send(PAYLOAD, key=KEY)
    assert not err.value.permanent


def test_pagerduty_without_routing_key_is_permanent():
    with pytest.raises(TransportError, match="routing_key") as err:
        transport_for(channel("pagerduty", {})).send(PAYLOAD, key=KEY)
    assert err.value.permanent


# --- SMS through Twilio's REST API --------------------------------------------------------


def test_sms_posts_one_twilio_message_per_recipient_with_basic_auth(receiver, monkeypatch):
    monkeypatch.setattr(conf, "TWILIO_API_BASE_URL", receiver.url)
    receiver.statuses = [201, 201]
    sms = transport_for(
        channel(
            "sms",
            {
                "account_sid": "AC123",
                "auth_token": "tok",
                "from": "+15005550006",
                "to": ["+447700900123", "+61491570156"],
            },
        )
    )
    sms.send(PAYLOAD, key=KEY)
    assert [r["path"] for r in receiver.requests] == ["/2010-04-01/Accounts/AC123/Messages.json"] * 2
    form = parse_qs(receiver.requests[0]["body"].decode())
    assert form["To"] == ["+447700900123"] and form["From"] == ["+15005550006"]
    assert form["Body"][0].startswith("[FIRING] critical rosewood-florals")
    assert receiver.requests[0]["headers"]["Authorization"] == "Basic " + base64.b64encode(b"AC123:tok").decode()
    assert receiver.requests[0]["headers"]["I-Twilio-Idempotency-Token"] == f"{KEY}.0"
    receiver.statuses = [(400, json.dumps({"code": 21211, "message": "Invalid 'To' Phone Number"}))]
    with pytest.raises(TransportError) as err:
        sms.send(PAYLOAD, key=KEY)
    assert err.value.permanent
    receiver.statuses = [(400, json.dumps({"code": 21610, "message": "Attempt to send to unsubscribed recipient"}))]
    with pytest.raises(TransportError) as err:
        sms.send(PAYLOAD, key=KEY)
    assert not err.value.permanent


# --- email via Django's backend to a local SMTP server ---------------------------------


def test_email_is_sent_through_smtp_with_subject_and_details(smtp):
    transport_for(channel("email", {"to": ["oncall@wedsync.example"]})).send(PAYLOAD, key=KEY)
    (message,) = smtp.messages
    assert message.rcpt_tos == ["oncall@wedsync.example"]
    parsed = email.message_from_bytes(message.content, policy=email.policy.default)
    assert parsed["Subject"] == "[WedSync] [FIRING] critical rosewood-florals: Checkout p95 912 ms > 500 ms"
    assert parsed["X-WedSync-Event"] == "alert.firing"
    assert "label service: payments" in parsed.get_content()


def test_email_refused_recipient_is_permanent_and_no_server_is_temporary(smtp, settings):
    with pytest.raises(TransportError, match="recipients refused") as err:
        transport_for(channel("email", {"to": "nobody@refused.example"})).send(PAYLOAD, key=KEY)
    assert err.value.permanent
    settings.EMAIL_PORT = 1
    with pytest.raises(TransportError) as err:
        transport_for(channel("email", {"to": "oncall@wedsync.example"})).send(PAYLOAD, key=KEY)
    assert not err.value.permanent


# --- through the outbox -----------------------------------------------------------------


def test_slack_delivery_through_the_outbox_is_recorded_and_a_permanent_error_disables_the_channel(world, receiver):
    with service_context():
        slack = NotificationChannel.objects.create(
            organization=world.org_a,
            kind="slack",
            name="rosewood slack",
            config={"webhook_url": receiver.url + "/slack"},
        )
        alert = AlertHistory.objects.create(
            organization=world.org_a,
            source="alertmanager",
            fingerprint="f1",
            title="Booking API down",
            severity="critical",
            starts_at=WEDNESDAY,
        )
        (first,) = notify("alert.firing", alert=alert, now=WEDNESDAY)
        (second,) = notify("alert.resolved", alert=alert, now=WEDNESDAY)
    assert delivery_send(delivery_id=first.pk, now=WEDNESDAY).status == "delivered"
    receiver.statuses = [410]
    assert delivery_send(delivery_id=second.pk, now=WEDNESDAY).status == "failed"
    with service_context():
        slack.refresh_from_db()
        assert not slack.enabled and "HTTP 410" in slack.disabled_reason
        assert DeliveryAttempt.objects.filter(channel=slack).count() == 2
    with vendor_context(world.org_b.id):
        assert NotificationDelivery.objects.count() == 0


def test_send_test_notification_reaches_a_slack_channel(world, receiver):
    with service_context():
        slack = NotificationChannel.objects.create(kind="slack", name="ops slack", config={"webhook_url": receiver.url})
        ok, message = channel_send_test(channel=slack, now=WEDNESDAY)
    assert ok, message
    assert receiver.json()["text"].startswith("[TEST] info")
