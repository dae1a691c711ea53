"""The on-call pages in a real browser (Debian's Chromium through Playwright) against a live server: staff read
the timeline and add an override, an organization's admin creates a schedule and a layer, a person sets
their contact methods and rules, and a paged person acknowledges from the link on a phone. No console
errors; screenshots in test-artifacts/screenshots/."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.escalation import escalations_run
from incidents.services import incident_create
from notifications.models import NotificationDelivery
from oncall.models import ContactMethod, Override, PersonalRule, Rotation, Schedule
from tests.factories import make_person, make_policy, make_schedule
from tests.test_browser import SHOTS, _login, _visit, _watch_console, browser, demo  # noqa: F401
from wedsync_ops.tenancy.context import service_context


@pytest.fixture
def rota(demo):  # noqa: F811
    now = timezone.now()
    priya = make_person("priya", first_name="Priya", last_name="Shah", methods={"email": "priya@ops.example"})
    marcus = make_person("marcus", first_name="Marcus")
    schedule = make_schedule(
        "Platform primary",
        layers=[
            dict(
                name="Weekdays",
                position=1,
                starts_on=(now - dt.timedelta(days=3)).date(),
                handoff_time=dt.time(9),
                period_unit="day",
                participants=[priya, marcus],
                days=[1, 2, 3, 4, 5],
            )
        ],
    )
    make_policy("Page the on call", steps=[dict(wait_minutes=0, target="user", user=priya)])
    return {**demo, "priya": priya, "schedule": schedule}


@pytest.mark.slow
def test_staff_read_the_timeline_and_add_an_override(live_server, browser, rota):  # noqa: F811
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = _watch_console(page)
    _login(page, base, "ops", "ops-browser-pass")
    _visit(page, base, "/ops/oncall/", "oncall-overview")
    body = page.inner_text("body")
    assert "Platform primary" in body and ("is on call now" in body or "Nobody is on call now" in body)
    assert page.locator("svg.timeline-chart rect.timeline-gap").count() >= 2  # the weekends, in red
    _visit(page, base, f"/ops/oncall/{rota['schedule'].pk}/", "oncall-schedule")
    start = timezone.localtime(timezone.now() + dt.timedelta(days=1), rota["schedule"].tz)
    page.select_option("#override-form select[name=user]", "marcus")
    page.fill("#override-form input[name=starts_at]", start.strftime("%Y-%m-%dT09:00"))
    page.fill("#override-form input[name=ends_at]", start.strftime("%Y-%m-%dT17:00"))
    page.fill("#override-form input[name=reason]", "swap with Priya")
    page.click("#override-form button[type=submit]")
    page.wait_for_load_state()
    assert "Override added." in page.inner_text("body") and "swap with Priya" in page.inner_text("#overrides")
    page.screenshot(path=str(SHOTS / "oncall-schedule-override.png"), full_page=True)
    _visit(page, base, "/ops/saturday/", "oncall-saturday-panel")
    assert "On call today" in page.inner_text("#oncall-today")
    context.close()
    with service_context():
        assert Override.objects.filter(schedule=rota["schedule"], user__username="marcus").count() == 1
    assert errors == []


@pytest.mark.slow
def test_an_org_admin_builds_a_schedule_and_sets_their_paging(live_server, browser, rota):  # noqa: F811
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = _watch_console(page)
    _login(page, base, "alice", "alice-browser-pass")
    _visit(page, base, "/org/rosewood-florals/oncall/", "oncall-org-empty")
    page.fill("#schedule-form input[name=name]", "Rosewood on call")
    page.click("#schedule-form button[type=submit]")
    page.wait_for_load_state()
    assert "/org/rosewood-florals/oncall/" in page.url and page.url.rstrip("/").split("/")[-1] != "oncall"
    page.fill("#layer-form input[name=name]", "Office hours")
    page.fill("#layer-form input[name=participants]", "alice")
    page.fill("#layer-form input[name=starts_on]", timezone.now().date().isoformat())
    for day in ("1", "2", "3", "4", "5"):
        page.check(f"#layer-form input[name=days][value='{day}']")
    page.fill("#layer-form input[name=active_from]", "09:00")
    page.fill("#layer-form input[name=active_until]", "18:00")
    page.click("#layer-form button[type=submit]")
    page.wait_for_load_state()
    assert "Layer 'Office hours' saved." in page.inner_text("body")
    assert page.locator("svg.timeline-chart rect.timeline-gap").count() >= 1  # nights and weekends
    page.screenshot(path=str(SHOTS / "oncall-org-schedule.png"), full_page=True)

    _visit(page, base, "/oncall/me/", "oncall-me-empty")
    page.select_option("#methods select[name=kind]", "sms")
    page.fill("#methods input[name=address]", "+44 7700 900 321")
    page.click("#methods button[type=submit]:has-text('Add contact method')")
    page.wait_for_load_state()
    page.select_option("#rules select[name=contact_method]", index=1)
    page.fill("#rules input[name=delay_minutes]", "3")
    page.click("#rules button[type=submit]:has-text('Add rule')")
    page.wait_for_load_state()
    assert "after 3 min" in page.inner_text("#rules")
    page.screenshot(path=str(SHOTS / "oncall-me.png"), full_page=True)
    context.close()
    with service_context():
        schedule = Schedule.objects.get(organization=rota["org_a"], name="Rosewood on call")
        assert Rotation.objects.filter(schedule=schedule, name="Office hours").exists()
        assert ContactMethod.objects.get(user=rota["alice"]).address == "+447700900321"
        assert PersonalRule.objects.get(user=rota["alice"]).delay_minutes == 3
    assert errors == []


@pytest.mark.slow
def test_a_paged_person_acknowledges_from_the_link_on_a_phone(live_server, browser, rota, settings):  # noqa: F811
    settings.PORTAL_BASE_URL = live_server.url
    now = timezone.now()
    with service_context():
        incident = incident_create(
            organization=rota["org_a"], title="Checkout is down", by=None, now=now, priority="p1", severity="critical"
        )
    escalations_run(now=now + dt.timedelta(seconds=1))
    with service_context():
        link = NotificationDelivery.objects.get(incident_id=incident.pk, method="email").payload["acknowledge_url"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    errors = _watch_console(page)
    response = page.goto(link)
    assert response.status == 200 and "Checkout is down" in page.inner_text("h1")
    page.screenshot(path=str(SHOTS / "oncall-acknowledge-phone.png"), full_page=True)
    page.click("#acknowledge")
    page.wait_for_load_state()
    assert "Acknowledged: Checkout is down. Thank you, Priya Shah." in page.inner_text("#ack-outcome")
    page.screenshot(path=str(SHOTS / "oncall-acknowledged-phone.png"), full_page=True)
    context.close()
    with service_context():
        incident.refresh_from_db()
    assert incident.status == "acknowledged" and errors == []
