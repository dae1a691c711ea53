"""The on-call loop of the demo, every step real: seed_demo's schedule and people, the README's captured
Alertmanager payload over HTTP to a live server, the escalation step paging whoever is on call by email
(a local SMTP server), SMS and Slack (a local HTTP receiver), and the link in that email, followed over
HTTP, acknowledging the incident."""

import datetime as dt
import email
import email.policy
import html
import re
from urllib.parse import parse_qs

import requests
from django.core.management import call_command
from django.utils import timezone

from alerts.services import integration_create
from incidents.escalation import escalations_run
from incidents.models import Incident, IncidentUpdate
from notifications import conf as notify_conf
from notifications.delivery import deliveries_sweep
from notifications.models import NotificationDelivery
from oncall.models import Schedule
from oncall.selectors import oncall_person
from tests.conftest import SAMPLES_DIR
from wedsync_ops.tenancy.context import service_context


def test_firing_the_readme_sample_pages_the_person_on_call_and_the_link_acknowledges(
    live_server, transactional_db, receiver, smtp, settings, monkeypatch
):
    settings.PORTAL_BASE_URL = live_server.url
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "ACdemo", "demo-auth-token"
    settings.TWILIO_FROM_NUMBER, settings.SLACK_BOT_TOKEN = "+15005550006", "xoxb-demo"
    monkeypatch.setattr(notify_conf, "TWILIO_API_BASE_URL", receiver.url + "/twilio")
    monkeypatch.setattr(notify_conf, "SLACK_API_BASE_URL", receiver.url + "/slack")
    monkeypatch.setenv("DEMO_WEBHOOK_URL", receiver.url + "/hook")
    receiver.statuses = [(200, '{"ok": true}')] * 50
    call_command("seed_demo", "--quiet", "--minutes", "2", "--samples", "1")
    with service_context():
        _integration, token = integration_create(kind="alertmanager", name="readme")

    sample = (SAMPLES_DIR / "alertmanager" / "captured-0.25-firing.json").read_bytes()
    answer = requests.post(
        f"{live_server.url}/api/v1/integrations/alertmanager/",
        data=sample,
        timeout=30,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    with service_context():
        incident = Incident.objects.filter(organization__slug="rosewood-florals", status="open").latest("created_at")
        opened = incident.escalation_clock_at
        schedule = Schedule.objects.get(organization=None, name="Platform primary")
    a_minute_later = opened + dt.timedelta(minutes=1, seconds=1)
    with service_context():
        _answer, on_call = oncall_person(schedule=schedule, at=a_minute_later)
    assert on_call is not None, "the demo schedule leaves no gap"

    escalations_run(now=a_minute_later)
    with service_context():
        pages = list(NotificationDelivery.objects.filter(incident_id=incident.pk, user_id=on_call.pk))
        step = IncidentUpdate.objects.filter(incident=incident, kind="escalation").latest("created_at").message
    assert {p.method for p in pages} >= {"email", "sms", "slack"}  # the voice call waits its 3 minutes
    assert f"Paged {on_call.get_full_name()} (on call for 'Platform primary'" in step
    deliveries_sweep(now=a_minute_later)

    bodies = [
        email.message_from_bytes(m.content, policy=email.policy.default).get_content()
        for m in smtp.messages
        if m.rcpt_tos == [on_call.email]
    ]
    (body,) = [b for b in bodies if incident.title in b]  # seeded incidents page too: this one's email
    link = re.search(re.escape(live_server.url) + r"/oncall/ack/\S+/", body).group(0)
    sms = [parse_qs(r["body"].decode()) for r in receiver.requests if r["path"].endswith("/Messages.json")]
    assert any(link in form["Body"][0] for form in sms)

    browser = requests.Session()
    shown = browser.get(link, timeout=30)
    assert shown.status_code == 200 and html.escape(incident.title) in shown.text and 'id="acknowledge"' in shown.text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', shown.text).group(1)
    done = browser.post(link, data={"csrfmiddlewaretoken": csrf}, timeout=30)
    assert done.status_code == 200 and "Acknowledged: " in done.text
    with service_context():
        incident.refresh_from_db()
        line = IncidentUpdate.objects.filter(incident=incident, kind="status_change").latest("created_at").message
    assert incident.status == "acknowledged" and incident.acknowledged_at <= timezone.now()
    assert line == (
        f"Status changed from open to acknowledged by {on_call.username} via the one-time link of their page, step 1"
    )
