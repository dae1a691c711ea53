"""On-call pages: /ops/oncall/ (now, the next 14 days as a timeline with gaps in red), schedule editing by
staff and by an organization's admins, the Saturday dashboard's "on call today", iCal feeds at secret
URLs, "my paging"; outsiders get 404 everywhere."""

import datetime as dt

import pytest
import time_machine
from icalendar import Calendar

from oncall.models import ContactMethod, Override, Rotation, Schedule
from tests.conftest import WEDNESDAY
from tests.factories import make_person, make_schedule
from wedsync_ops.tenancy.context import service_context


@pytest.fixture
def rota(world):
    w = world
    w.priya = make_person("priya", first_name="Priya", last_name="Shah")
    w.marcus = make_person("marcus", first_name="Marcus")
    w.platform = make_schedule(
        "Platform primary",
        layers=[
            dict(
                name="Weekdays",
                position=1,
                starts_on=dt.date(2026, 6, 8),
                handoff_time=dt.time(9),
                period_unit="week",
                participants=[w.priya, w.marcus],
                days=[1, 2, 3, 4, 5],
            )
        ],
    )
    w.rosewood = make_schedule(
        "Rosewood on call",
        organization=w.org_a,
        layers=[
            dict(
                name="Everyone",
                position=1,
                starts_on=dt.date(2026, 6, 1),
                handoff_time=dt.time(8),
                period_unit="day",
                participants=[w.alice],
            )
        ],
    )
    return w


@time_machine.travel(WEDNESDAY, tick=False)
def test_ops_oncall_shows_who_is_on_call_now_and_the_next_14_days_with_the_gaps_in_red(rota, client):
    client.force_login(rota.staff)
    html = client.get("/ops/oncall/").content.decode()
    assert "<strong>Priya Shah</strong> is on call now" in html and "until Mon 15 Jun 09:00 BST" not in html
    assert "until Sat 13 Jun 00:00 BST" in html and "Next: Marcus" in html
    assert html.count('class="timeline-gap"') >= 2  # the two weekends
    assert "2 gaps in the next 14 days (nobody on call)" in html
    assert "Rosewood on call" in html  # staff see organizations' schedules too
    assert 'aria-label="Platform primary: the next 14 days (Europe/London): 2 gap(s) totalling 96 h"' in html


def test_staff_create_a_schedule_add_a_layer_and_an_override_and_bad_input_says_why(rota, client):
    client.force_login(rota.staff)
    bad = client.post("/ops/oncall/", {"name": "Nights", "timezone": "Mars/Olympus"})
    assert bad.status_code == 400 and "is not an IANA time zone" in bad.content.decode()
    made = client.post("/ops/oncall/", {"name": "Nights", "timezone": "Australia/Sydney"})
    with service_context():
        nights = Schedule.objects.get(name="Nights")
    assert made.status_code == 302 and made["Location"] == f"/ops/oncall/{nights.pk}/"
    layer = {
        "action": "rotation",
        "name": "Sydney nights",
        "position": 2,
        "participants": "priya, alice",
        "starts_on": "2026-06-08",
        "handoff_time": "20:00",
        "period_unit": "day",
        "period_count": 1,
    }
    refused = client.post(f"/ops/oncall/{nights.pk}/", layer)
    assert refused.status_code == 400 and "not someone who can be on call here: alice" in refused.content.decode()
    layer["participants"] = "priya, marcus"
    assert client.post(f"/ops/oncall/{nights.pk}/", {**layer, "active_from": "20:00"}).status_code == 400
    assert client.post(f"/ops/oncall/{nights.pk}/", layer).status_code == 302
    override = {"action": "override", "user": "marcus", "starts_at": "2026-06-13T08:00", "ends_at": "2026-06-13T20:00"}
    assert client.post(f"/ops/oncall/{nights.pk}/", override).status_code == 302
    with service_context():
        rotation = Rotation.objects.get(schedule=nights)
        o = Override.objects.get(schedule=nights)
        assert [p.user.username for p in rotation.participants.order_by("position")] == ["priya", "marcus"]
    assert o.starts_at == dt.datetime(2026, 6, 12, 22, 0, tzinfo=dt.UTC)  # 08:00 AEST, the schedule's zone
    backwards = {**override, "ends_at": "2026-06-13T07:00"}
    assert "must be after the start" in client.post(f"/ops/oncall/{nights.pk}/", backwards).content.decode()


def test_org_admins_edit_their_schedules_members_read_and_outsiders_get_404(rota, client):
    w = rota
    member = make_person("rosemember", staff=False, organization=w.org_a)
    client.force_login(w.alice)  # admin of Rosewood
    page = client.get("/org/rosewood-florals/oncall/")
    assert page.status_code == 200 and "Rosewood on call" in page.content.decode()
    assert "Platform primary" not in page.content.decode()
    url = f"/org/rosewood-florals/oncall/{w.rosewood.pk}/"
    layer = {
        "action": "rotation",
        "name": "Saturdays",
        "position": 5,
        "participants": "alice, rosemember",
        "starts_on": "2026-06-06",
        "handoff_time": "00:00",
        "period_unit": "week",
        "period_count": 1,
        "wedding_day_only": "on",
    }
    assert client.post(url, layer).status_code == 302
    staff_in_org = {**layer, "name": "Ops", "participants": "priya"}
    assert "not someone who can be on call here: priya" in client.post(url, staff_in_org).content.decode()
    assert (
        client.post("/org/rosewood-florals/oncall/", {"name": "Second", "timezone": "Europe/London"}).status_code == 302
    )
    client.force_login(member)
    assert client.get(url).status_code == 200
    assert client.post(url, {**layer, "name": "Mine"}).status_code == 404  # members read, admins edit
    client.force_login(w.bob)  # Bloom & Vine
    assert client.get("/org/rosewood-florals/oncall/").status_code == 404
    assert client.get(f"/org/bloom-and-vine/oncall/{w.rosewood.pk}/").status_code == 404
    assert client.get(f"/ops/oncall/{w.rosewood.pk}/").status_code == 404
    client.force_login(w.alice)
    assert client.get(f"/org/rosewood-florals/oncall/{w.platform.pk}/").status_code == 404
    assert client.get("/ops/oncall/").status_code == 404


@time_machine.travel(WEDNESDAY, tick=False)
def test_the_saturday_dashboard_shows_who_is_on_call_today(rota, client):
    client.force_login(rota.staff)
    html = client.get("/ops/saturday/").content.decode()
    section = html[html.index('id="oncall-today"') : html.index('id="wedding-day-mode"')]
    assert "Platform primary" in section and "<strong>Priya Shah</strong>" in section
    assert "Wed 10 Jun: 00:00–24:00 Priya Shah" in section and "Rosewood on call" in section


def _events(body: bytes) -> list:
    return [
        (str(e["summary"]), e.decoded("dtstart"), e.decoded("dtend")) for e in Calendar.from_ical(body).walk("VEVENT")
    ]


@time_machine.travel(WEDNESDAY, tick=False)
def test_ical_feeds_per_schedule_and_per_person_at_secret_urls(rota, client):
    w = rota
    response = client.get(f"/oncall/feeds/schedule/{w.platform.ical_token}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    events = _events(response.content)
    assert (
        "Priya Shah on call (Platform primary)",
        dt.datetime(2026, 6, 8, 8, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 6, 12, 23, 0, tzinfo=dt.UTC),
    ) in events
    assert any(s.startswith("GAP: nobody on call") for s, _a, _b in events)
    client.force_login(w.priya)
    me = client.get("/oncall/me/").content.decode()
    token = me.split("/oncall/feeds/person/")[1].split(".ics")[0]
    client.logout()
    mine = _events(client.get(f"/oncall/feeds/person/{token}.ics").content)
    assert mine and {s for s, _a, _b in mine} == {"On call: Platform primary"}
    assert client.get("/oncall/feeds/schedule/not-a-token.ics").status_code == 404
    client.force_login(w.staff)
    client.post(f"/ops/oncall/{w.platform.pk}/", {"action": "feed"})
    client.logout()
    assert client.get(f"/oncall/feeds/schedule/{w.platform.ical_token}.ics").status_code == 404  # revoked


def test_my_paging_adds_contact_methods_and_rules_and_refuses_bad_numbers(rota, client):
    w = rota
    client.force_login(w.alice)
    bad = client.post("/oncall/me/", {"action": "method", "kind": "sms", "address": "07700 900123"})
    assert bad.status_code == 400 and "E.164" in bad.content.decode()
    assert (
        client.post("/oncall/me/", {"action": "method", "kind": "sms", "address": "+44 7700 900123"}).status_code == 302
    )
    with service_context():
        method = ContactMethod.objects.get(user=w.alice)
    assert method.address == "+447700900123" and method.organization_id == w.org_a.pk
    assert (
        client.post("/oncall/me/", {"action": "rule", "contact_method": str(method.pk), "delay_minutes": 3}).status_code
        == 302
    )
    twice = client.post("/oncall/me/", {"action": "rule", "contact_method": str(method.pk), "delay_minutes": 5})
    assert twice.status_code == 400 and "already in this list" in twice.content.decode()
    client.force_login(w.bob)
    stolen = client.post("/oncall/me/", {"action": "method-delete", "id": str(method.pk)})
    assert stolen.status_code == 404
    with service_context():
        assert ContactMethod.objects.filter(pk=method.pk).exists()
