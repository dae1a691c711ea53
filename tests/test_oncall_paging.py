"""Paging people: an escalation step reaches its target through their own rules, one outbox delivery per
person, step and method, sent by email (local SMTP), Twilio SMS and voice and Slack DM (local HTTP
receivers); the timeline names who was paged and how, and acknowledging cancels what is still pending."""

import datetime as dt
import email
import email.policy
import re
from urllib.parse import parse_qs

from incidents.escalation import escalations_run
from incidents.models import EscalationContact, IncidentUpdate
from incidents.services import incident_acknowledge, incident_create
from notifications.delivery import deliveries_sweep, delivery_send
from notifications.models import NotificationChannel, NotificationDelivery, NotificationRule
from notifications.services import Recipient, notification_enqueue
from tests.conftest import PRIYA_SMS, SATURDAY, WEDNESDAY
from tests.factories import make_person, make_policy
from wedsync_ops.tenancy.context import service_context, vendor_context

MIN = dt.timedelta(minutes=1)


def _incident(w, *, at=WEDNESDAY, org=None):
    with service_context():
        return incident_create(
            organization=org or w.org_a, title="Checkout is down", by=None, now=at, priority="p1", severity="critical"
        )


def _pages(incident):
    with service_context():
        return list(
            NotificationDelivery.objects.filter(incident_id=incident.pk, channel__isnull=True).order_by(
                "next_attempt_at", "method"
            )
        )


def _step_text(incident):
    with service_context():
        return IncidentUpdate.objects.filter(incident=incident, kind="escalation").latest("created_at").message


def test_a_schedule_step_pages_the_person_on_call_by_each_of_their_methods_exactly_once(paging, client):
    w = paging
    incident = _incident(w)
    assert escalations_run(now=WEDNESDAY + 5 * MIN)["incidents"] == 1
    pages = _pages(incident)
    assert [(p.method, p.address, p.user_id, p.next_attempt_at - WEDNESDAY) for p in pages] == [
        ("email", "priya@ops.example", w.priya.pk, 5 * MIN),
        ("sms", PRIYA_SMS, w.priya.pk, 5 * MIN),
        ("voice", PRIYA_SMS, w.priya.pk, 8 * MIN),
    ]
    assert {p.organization_id for p in pages} == {None}  # staff's pages are staff-only rows
    text = _step_text(incident)
    assert (
        "Paged Priya Shah (on call for 'Platform primary' (Weekdays)): email priya@ops.example at once, "
        f"SMS {PRIYA_SMS} at once, voice call {PRIYA_SMS} in 3 min unless acknowledged." in text
    )
    with service_context():
        kept = IncidentUpdate.objects.get(incident=incident, kind="escalation").deliveries
    assert {str(p.pk) for p in pages} <= set(kept)  # the incident page shows each page's outcome
    # The same step again (a second beat, a retried task) writes nothing: once per person, step and method.
    assert escalations_run(now=WEDNESDAY + 6 * MIN)["incidents"] == 0
    with service_context():
        again, _route = notification_enqueue(
            event="incident.escalated",
            organization_id=w.org_a.pk,
            labels={},
            payload={"title": "x"},
            now=WEDNESDAY + 6 * MIN,
            incident_id=incident.pk,
            step=1,
            recipients=tuple(
                Recipient(method=p.method, address=p.address, name="Priya Shah", user_id=w.priya.pk) for p in pages
            ),
        )
    assert again == [] and len(_pages(incident)) == 3

    counts = deliveries_sweep(now=WEDNESDAY + 5 * MIN)
    assert counts["delivered"] == 2  # the voice call waits its 3 minutes
    (sms,) = [r for r in w.receiver.requests if r["path"].endswith("/Messages.json")]
    assert sms["path"] == "/twilio/2010-04-01/Accounts/AC123/Messages.json"
    form = parse_qs(sms["body"].decode())
    assert form["To"] == [PRIYA_SMS] and form["From"] == ["+15005550006"]
    body = form["Body"][0]
    assert len(body) <= 320 and "Checkout is down" in body
    link = re.search(r"http://portal\.test/oncall/ack/\S+/", body).group(0)
    code = re.search(r"reply ACK ([A-Z0-9]{6})", body).group(1)
    (mail,) = w.smtp.messages
    parsed = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert mail.rcpt_tos == ["priya@ops.example"] and parsed["Subject"].startswith("[WedSync] PAGE [p1] ESCALATED")
    assert link in parsed.get_content() and f"ACK {code}" in parsed.get_content()
    assert "on call for 'Platform primary' (Weekdays)" in parsed.get_content()

    assert deliveries_sweep(now=WEDNESDAY + 8 * MIN)["delivered"] == 1
    (call,) = [r for r in w.receiver.requests if r["path"].endswith("/Calls.json")]
    twiml = parse_qs(call["body"].decode())["Twiml"][0]
    assert '<Gather action="http://portal.test/oncall/twilio/voice/' in twiml and 'numDigits="1"' in twiml
    assert "Checkout is down" in twiml and "Press 1 to acknowledge." in twiml

    client.force_login(w.staff)
    page = client.get(f"/ops/incidents/{incident.pk}/").content.decode()
    assert f"Priya Shah by SMS {PRIYA_SMS}: " in page and "voice call" in page and "sent" in page


def test_acknowledging_cancels_the_pages_still_waiting(paging):
    w = paging
    incident = _incident(w)
    escalations_run(now=WEDNESDAY + 5 * MIN)
    deliveries_sweep(now=WEDNESDAY + 5 * MIN)
    with service_context():
        incident_acknowledge(incident=incident, by=w.priya, now=WEDNESDAY + 6 * MIN)
    voice = [p for p in _pages(incident) if p.method == "voice"][0]
    assert voice.status == "cancelled" and "acknowledged" in voice.last_error
    assert deliveries_sweep(now=WEDNESDAY + 9 * MIN)["delivered"] == 0
    assert not [r for r in w.receiver.requests if r["path"].endswith("/Calls.json")]


def test_on_a_wedding_day_the_persons_wedding_day_list_applies(paging):
    w = paging
    incident = _incident(w, at=SATURDAY)
    with service_context():
        wd = make_policy(
            "Platform wedding day",
            wedding_day=True,
            steps=[dict(wait_minutes=2, target="schedule", schedule=w.schedule)],
        )
    assert wd.wedding_day
    escalations_run(now=SATURDAY + 2 * MIN)
    assert [(p.method, p.next_attempt_at - SATURDAY) for p in _pages(incident)] == [
        ("slack", 2 * MIN),
        ("voice", 2 * MIN),
    ]
    w.receiver.statuses = [(200, '{"ok": true, "channel": "D0PRIYA", "ts": "1.0"}')] * 2
    assert deliveries_sweep(now=SATURDAY + 2 * MIN)["delivered"] == 2
    slack = [r for r in w.receiver.requests if r["path"] == "/slack/chat.postMessage"][0]
    assert slack["headers"]["Authorization"] == "Bearer xoxb-test"
    body = w.receiver.json(w.receiver.requests.index(slack))
    assert body["channel"] == "U0PRIYA01"
    actions = [b for b in body["blocks"] if b["type"] == "actions"][0]["elements"]
    assert [a.get("action_id") for a in actions] == ["wedsync_acknowledge", "wedsync_resolve", "wedsync_open"]
    assert actions[0]["value"] == str(incident.pk) and "/oncall/ack/" in actions[2]["url"]


def test_a_gap_in_the_schedule_pages_nobody_and_the_timeline_says_so(paging):
    w = paging
    with service_context():
        w.schedule.rotations.update(days=[1, 2, 3, 4, 5])
    incident = _incident(w, at=SATURDAY)  # no wedding-day policy here: the ordinary one, on a Saturday
    escalations_run(now=SATURDAY + 5 * MIN)
    assert _pages(incident) == []
    text = _step_text(incident)
    assert "Nobody is on call for 'Platform primary' at Sat 13 Jun 13:05 Europe/London (a gap in the schedule)" in text
    assert "Paged" not in text


def test_contact_user_and_channel_targets(paging):
    w = paging
    with service_context():
        dana = EscalationContact.objects.create(
            name="Dana (director)", level="director", email="dana@ops.example", phone="+447700900999", slack="@dana"
        )
        pager = NotificationChannel.objects.create(
            kind="webhook", name="pager hook", config={"url": w.receiver.url + "/pager"}
        )
        ops = NotificationChannel.objects.create(kind="webhook", name="ops hook", config={"url": w.receiver.url})
        rule = NotificationRule.objects.create(name="ops only", matchers=[])
        rule.rule_channels.create(channel=ops)
        w.policy.steps.all().delete()
    with service_context():
        from incidents.models import EscalationStep

        for position, fields in enumerate(
            [
                dict(target="contact", contact=dana),
                dict(target="user", user=w.marcus),
                dict(target="channel", channel=pager),
            ],
            start=1,
        ):
            EscalationStep.objects.create(policy=w.policy, position=position, wait_minutes=5, **fields)
    incident = _incident(w)
    escalations_run(now=WEDNESDAY + 5 * MIN)
    assert [(p.method, p.address, p.contact_id) for p in _pages(incident)] == [
        ("email", "dana@ops.example", dana.pk),
        ("sms", "+447700900999", dana.pk),
    ]  # "@dana" is no member id
    assert (
        "Paged Dana (director) (escalation contact): email dana@ops.example at once, SMS +447700900999 at once."
        in _step_text(incident)
    )
    escalations_run(now=WEDNESDAY + 10 * MIN)
    assert "Paged Marcus (named in the escalation policy): email marcus@ops.example at once." in _step_text(incident)
    escalations_run(now=WEDNESDAY + 15 * MIN)
    text = _step_text(incident)
    assert "Notified 2 channel(s): " in text and "pager hook" in text and "ops hook" in text  # routing + the target


def test_a_permanent_twilio_error_fails_that_page_only_and_the_timeline_records_it(paging):
    w = paging
    with service_context():
        ops = NotificationChannel.objects.create(kind="webhook", name="ops hook", config={"url": w.receiver.url})
    incident = _incident(w)
    escalations_run(now=WEDNESDAY + 5 * MIN)
    w.receiver.statuses = [(400, '{"code": 21211, "message": "Invalid To"}')]
    sms = [p for p in _pages(incident) if p.method == "sms"][0]
    assert delivery_send(delivery_id=sms.pk, now=WEDNESDAY + 5 * MIN).status == "failed"
    assert deliveries_sweep(now=WEDNESDAY + 5 * MIN)["delivered"] == 3  # the email page; the channel: opened, step 1
    with service_context():
        ops.refresh_from_db()
        failed = IncidentUpdate.objects.filter(incident=incident, kind="notification", message__contains="failed")
        assert ops.enabled and failed.count() == 1
        assert f"to Priya Shah by SMS {PRIYA_SMS} failed after 1 attempt(s)" in failed.get().message


def test_a_vendor_is_never_paged_about_another_organizations_incident(paging):
    w = paging
    bloom = make_person("bloomer", staff=False, organization=w.org_b, methods={"email": "b@bloom.example"})
    with service_context():
        from incidents.models import EscalationStep

        w.policy.steps.all().delete()
        EscalationStep.objects.create(policy=w.policy, position=1, wait_minutes=5, target="user", user=bloom)
    incident = _incident(w)  # Rosewood's
    escalations_run(now=WEDNESDAY + 5 * MIN)
    assert _pages(incident) == []
    assert "cannot be paged: not a member of the incident's organization" in _step_text(incident)


def test_vendors_see_their_own_peoples_pages_and_never_the_ops_teams(paging):
    w = paging
    rose = make_person("rosie", staff=False, organization=w.org_a, methods={"email": "rosie@rosewood.example"})
    with service_context():
        from incidents.models import EscalationStep

        EscalationStep.objects.create(policy=w.policy, position=2, wait_minutes=1, target="user", user=rose)
    incident = _incident(w)
    escalations_run(now=WEDNESDAY + 5 * MIN)
    escalations_run(now=WEDNESDAY + 6 * MIN)
    with vendor_context(w.org_a.pk):
        seen = list(NotificationDelivery.objects.filter(incident_id=incident.pk).values_list("address", flat=True))
    with vendor_context(w.org_b.pk):
        outsider = NotificationDelivery.objects.filter(incident_id=incident.pk).count()
    assert seen == ["rosie@rosewood.example"] and outsider == 0
