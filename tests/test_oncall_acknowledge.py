"""Acknowledging from the page, without logging in: the one-time signed link, an SMS reply "ACK <code>"
(X-Twilio-Signature, signed here with twilio's own RequestValidator), "press 1" on the voice call, and
Slack's Acknowledge / Resolve buttons (X-Slack-Signature, signed with slack_sdk's own verifier). The
timeline says who acknowledged and how."""

import datetime as dt
import json
import time
from urllib.parse import urlencode

import pytest
import time_machine
from django.core import signing
from slack_sdk.signature import SignatureVerifier
from twilio.request_validator import RequestValidator

from incidents.escalation import escalations_run
from incidents.models import Incident, IncidentUpdate
from incidents.services import incident_create
from notifications.models import NotificationDelivery
from oncall import conf as oncall_conf
from oncall.models import AcknowledgeToken
from tests.conftest import PRIYA_SMS, WEDNESDAY
from tests.factories import make_person
from wedsync_ops.tenancy.context import service_context

MIN = dt.timedelta(minutes=1)
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def paged(paging):
    """Priya was paged for a Rosewood incident (step 1): her token and incident."""
    w = paging
    with service_context():
        w.incident = incident_create(
            organization=w.org_a, title="Checkout is down", by=None, now=WEDNESDAY, priority="p1", severity="critical"
        )
    escalations_run(now=WEDNESDAY + 5 * MIN)
    with service_context():
        w.token = AcknowledgeToken.objects.get(incident=w.incident, user=w.priya)
        sms = NotificationDelivery.objects.get(incident_id=w.incident.pk, method="sms")
    w.link = sms.payload["acknowledge_url"].removeprefix("http://portal.test")
    return w


def _incident(w) -> Incident:
    with service_context():
        return Incident.objects.get(pk=w.incident.pk)


def _status_lines(w) -> list[str]:
    with service_context():
        return list(
            IncidentUpdate.objects.filter(incident=w.incident, kind="status_change").values_list("message", flat=True)
        )


@time_machine.travel(WEDNESDAY + 6 * MIN, tick=False)
def test_the_link_shows_the_incident_and_a_post_acknowledges_it_once(paged, client):
    w = paged
    page = client.get(w.link)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Checkout is down" in html and "Page for Priya Shah" in html and 'id="acknowledge"' in html
    assert _incident(w).status == "open"  # a GET (a mail scanner, Slack's preview) changes nothing
    done = client.post(w.link)
    assert done.status_code == 200 and "Acknowledged: Checkout is down. Thank you, Priya Shah." in done.content.decode()
    assert _incident(w).status == "acknowledged"
    assert _status_lines(w) == [
        "Status changed from open to acknowledged by priya via the one-time link of their page, step 1"
    ]
    again = client.post(w.link).content.decode()
    assert "already used to acknowledge" in again and 'id="acknowledge"' not in again


def test_a_forged_or_expired_link_acknowledges_nothing(paged, client):
    w = paged
    forged = f"/oncall/ack/{w.token.pk}:1a2b3c:forged/"
    assert client.get(forged).status_code == 404
    assert client.post(forged).status_code == 404
    with time_machine.travel(WEDNESDAY + dt.timedelta(seconds=oncall_conf.ACK_LINK_MAX_AGE_S + 600), tick=False):
        assert client.post(w.link).status_code == 404  # the signature's own age limit
    other = signing.TimestampSigner(salt="oncall.acknowledge.voice").sign(str(w.token.pk))
    assert client.get(f"/oncall/ack/{other}/").status_code == 404  # a voice callback's signature is no link
    assert _incident(w).status == "open"


def _twilio_post(client, settings, path, params, *, token="tok"):
    url = settings.PORTAL_BASE_URL + path
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(path, data=urlencode(params), content_type=FORM, HTTP_X_TWILIO_SIGNATURE=signature)


@time_machine.travel(WEDNESDAY + 6 * MIN, tick=False)
def test_an_sms_reply_ack_code_from_the_paged_number_acknowledges(paged, client, settings):
    w = paged
    params = {"From": PRIYA_SMS, "To": "+15005550006", "Body": f"ack {w.token.code.lower()}", "MessageSid": "SM1"}
    wrong_number = _twilio_post(client, settings, "/oncall/twilio/sms/", {**params, "From": "+447700900999"})
    assert wrong_number.status_code == 200 and b"No open page has the code" in wrong_number.content
    assert _incident(w).status == "open"
    answer = _twilio_post(client, settings, "/oncall/twilio/sms/", params)
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/xml")
    assert (
        b"<Response><Message>Acknowledged: Checkout is down. Thank you, Priya Shah.</Message></Response>"
        in answer.content
    )
    assert _incident(w).status == "acknowledged"
    assert _status_lines(w) == [
        f"Status changed from open to acknowledged by priya via an SMS reply "
        f"ACK {w.token.code} from {PRIYA_SMS}, step 1"
    ]
    help_text = _twilio_post(client, settings, "/oncall/twilio/sms/", {**params, "Body": "on it"})
    assert b"Reply ACK followed by the code" in help_text.content


def test_twilio_webhooks_refuse_a_bad_signature(paged, client, settings):
    w = paged
    params = {"From": PRIYA_SMS, "Body": f"ACK {w.token.code}"}
    assert _twilio_post(client, settings, "/oncall/twilio/sms/", params, token="not-the-token").status_code == 403
    assert client.post("/oncall/twilio/sms/", data=urlencode(params), content_type=FORM).status_code == 403
    tampered_url = "/oncall/twilio/sms/"
    signature = RequestValidator("tok").compute_signature(settings.PORTAL_BASE_URL + tampered_url, params)
    tampered = client.post(
        tampered_url,
        data=urlencode({**params, "From": "+447700900999"}),
        content_type=FORM,
        HTTP_X_TWILIO_SIGNATURE=signature,
    )
    assert tampered.status_code == 403
    assert _incident(w).status == "open"


@time_machine.travel(WEDNESDAY + 9 * MIN, tick=False)
def test_pressing_1_on_the_voice_call_acknowledges(paged, client, settings):
    w = paged
    with service_context():
        voice = NotificationDelivery.objects.get(incident_id=w.incident.pk, method="voice")
    path = voice.payload["voice_gather_url"].removeprefix(settings.PORTAL_BASE_URL)
    pressed_2 = _twilio_post(client, settings, path, {"Digits": "2", "CallSid": "CA1", "To": PRIYA_SMS})
    assert b"<Say>Not acknowledged. Goodbye.</Say>" in pressed_2.content and _incident(w).status == "open"
    pressed_1 = _twilio_post(client, settings, path, {"Digits": "1", "CallSid": "CA1", "To": PRIYA_SMS})
    assert b"<Say>Acknowledged. Thank you.</Say>" in pressed_1.content
    assert _incident(w).status == "acknowledged"
    assert "via the voice call (pressed 1)" in _status_lines(w)[0]


# --- Slack --------------------------------------------------------------------------------------


@pytest.fixture
def slack(paged, settings, monkeypatch):
    settings.SLACK_SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
    monkeypatch.setattr(oncall_conf, "SLACK_RESPONSE_URL_PREFIX", paged.receiver.url + "/")
    return paged


def _slack_click(client, w, *, member, action="wedsync_acknowledge", secret=None, timestamp=None, value=None):
    payload = {
        "type": "block_actions",
        "user": {"id": member, "username": "someone"},
        "team": {"id": "T0WEDSYNC"},
        "response_url": w.receiver.url + "/slack-response",
        "actions": [{"action_id": action, "value": value or str(w.incident.pk), "type": "button"}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    ts = str(timestamp or int(time.time()))
    signature = SignatureVerifier(secret or "8f742231b10e8888abcd99yyyzzz85a5").generate_signature(
        timestamp=ts, body=body
    )
    return client.post(
        "/oncall/slack/actions/",
        data=body,
        content_type=FORM,
        HTTP_X_SLACK_SIGNATURE=signature,
        HTTP_X_SLACK_REQUEST_TIMESTAMP=ts,
    )


def _replies(w) -> list[dict]:
    return [json.loads(r["body"]) for r in w.receiver.requests if r["path"] == "/slack-response"]


def test_the_slack_button_acts_as_the_mapped_portal_user(slack, client, django_capture_on_commit_callbacks):
    w = slack
    with django_capture_on_commit_callbacks(execute=True):
        assert _slack_click(client, w, member="U0PRIYA01").status_code == 200
    assert _incident(w).status == "acknowledged"
    assert _status_lines(w) == ["Status changed from open to acknowledged by priya via the Slack button"]
    (reply,) = _replies(w)
    assert reply["response_type"] == "in_channel" and "acknowledged by <@U0PRIYA01> (Priya Shah)" in reply["text"]
    with django_capture_on_commit_callbacks(execute=True):
        _slack_click(client, w, member="U0PRIYA01", action="wedsync_resolve")
    assert _incident(w).status == "resolved"
    assert _status_lines(w)[-1] == "Status changed from acknowledged to resolved by priya via the Slack button"


def test_unknown_slack_users_and_outsiders_get_an_ephemeral_refusal(slack, client, django_capture_on_commit_callbacks):
    w = slack
    make_person("bloomer", staff=False, organization=w.org_b, methods={"slack": "U0BLOOM01"})
    with django_capture_on_commit_callbacks(execute=True):
        _slack_click(client, w, member="U0NOBODY1")
        _slack_click(client, w, member="U0BLOOM01")  # a vendor of another organization
    unknown, outsider = _replies(w)
    assert unknown["response_type"] == "ephemeral" and "not linked to a WedSync Ops user" in unknown["text"]
    assert outsider["response_type"] == "ephemeral" and outsider["text"] == "You cannot act on this incident."
    assert _incident(w).status == "open"


def test_slack_requests_with_a_bad_or_stale_signature_are_refused(slack, client):
    w = slack
    assert _slack_click(client, w, member="U0PRIYA01", secret="someone-elses-secret").status_code == 401
    assert _slack_click(client, w, member="U0PRIYA01", timestamp=int(time.time()) - 600).status_code == 401
    assert _incident(w).status == "open" and _replies(w) == []


def test_the_slack_channel_message_of_an_open_incident_has_the_buttons(paged):
    from notifications.transports import Slack

    w = paged
    payload = {
        "event": "incident.opened",
        "kind": "incident",
        "id": str(w.incident.pk),
        "status": "open",
        "title": "Checkout is down",
        "severity": "critical",
        "url": "http://portal.test/ops/incidents/x/",
    }
    channel = type("C", (), {"config": {"webhook_url": w.receiver.url + "/hook"}})()
    Slack(channel).send(payload, key="k1")
    Slack(channel).send({**payload, "event": "incident.resolved", "status": "resolved"}, key="k2")
    opened, resolved = (w.receiver.json(i) for i in (0, 1))
    actions = [b for b in opened["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == [
        "wedsync_acknowledge",
        "wedsync_resolve",
        "wedsync_open",
    ]
    assert not [b for b in resolved["blocks"] if b["type"] == "actions"]
