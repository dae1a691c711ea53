"""Heartbeat and job pages in a real browser (Debian's Chromium via Playwright) against a live server.

Staff walk the checks, a down check, the beat jobs and the admin; a vendor on
a phone creates a check in the form, pings its URL as a cron job would, and
sees it up with its ping log; another organization's pages answer 404.
Screenshots go to test-artifacts/screenshots/; the browser logs no errors.
"""

import datetime as dt

import pytest
import requests
from django.utils import timezone

from tests.test_browser import SHOTS, _login, _visit, _watch_console, browser  # noqa: F401 (the browser fixture)
from wedsync_ops.tenancy.context import service_context


@pytest.fixture
def heartbeat_demo(transactional_db, django_user_model):
    from demo.heartbeats import demo_checks_seed
    from heartbeats.models import HeartbeatCheck, JobRun
    from wedsync_ops.tenancy.models import Organization, UserProfile

    now = timezone.now()
    with service_context():
        orgs = {
            "rosewood-florals": Organization.objects.create(
                slug="rosewood-florals", name="Rosewood Florals", timezone="Europe/London"
            ),
            "brooklyn-bakes": Organization.objects.create(
                slug="brooklyn-bakes", name="Brooklyn Bakes", timezone="America/New_York"
            ),
        }
        demo_checks_seed(organizations=orgs, now=now)
        for minutes in range(30, 0, -1):
            at = now - dt.timedelta(minutes=minutes)
            JobRun.objects.create(
                job="alerts-evaluate-rules",
                task="alerts.tasks.evaluate_rules",
                started_at=at,
                finished_at=at + dt.timedelta(seconds=1),
                duration_ms=200 + 10 * minutes,
                outcome="success",
                rows_handled=minutes,
            )
        django_user_model.objects.create_user("ops", password="ops-browser-pass", is_staff=True, is_superuser=True)
        alice = django_user_model.objects.create_user("alice", password="alice-browser-pass")
        UserProfile.objects.create(user=alice, organization=orgs["rosewood-florals"], role="admin")
        down = HeartbeatCheck.objects.get(name="Payments reconciliation")
    return {"down_id": down.pk}


@pytest.mark.slow
def test_staff_walk_the_checks_a_down_check_and_the_beat_jobs(live_server, browser, heartbeat_demo):  # noqa: F811
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = _watch_console(page)
    _login(page, base, "ops", "ops-browser-pass")
    _visit(page, base, "/ops/heartbeats/", "staff-heartbeats")
    body = page.inner_text("body")
    assert "Payments reconciliation" in body and "Platform database backup" in body and "Gallery export" in body
    assert page.locator("svg.status-strip").count() == 5
    _visit(page, base, "/ops/heartbeats/?status=down", "staff-heartbeats-down")
    page.click("text=Payments reconciliation")
    page.wait_for_load_state()
    assert f"/ops/heartbeats/{heartbeat_demo['down_id']}/" in page.url
    page.screenshot(path=str(SHOTS / "staff-heartbeat-down.png"), full_page=True)
    text = page.inner_text("body")
    assert "stripe: 503 Service Unavailable" in text or "bytes" in text
    assert "curl -fsS -m 10 --retry 5 -o /dev/null" in text
    _visit(page, base, "/ops/jobs/", "staff-jobs")
    assert "stale" in page.inner_text("body")  # most jobs never ran in this test: they show as never or stale
    _visit(page, base, "/ops/jobs/alerts-evaluate-rules/", "staff-job-detail")
    assert page.locator("#job-runs-chart").count() == 1
    for path in ("/admin/heartbeats/heartbeatcheck/", "/admin/heartbeats/heartbeatping/", "/admin/heartbeats/jobrun/"):
        _visit(page, base, path, "staff-admin-" + path.strip("/").split("/")[-1])
    context.close()
    assert errors == []


@pytest.mark.slow
def test_vendor_creates_a_check_on_a_phone_pings_it_and_sees_it_up(live_server, browser, heartbeat_demo):  # noqa: F811
    base = live_server.url
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    errors = _watch_console(page)
    _login(page, base, "alice", "alice-browser-pass")
    _visit(page, base, "/org/rosewood-florals/", "vendor-org-home-heartbeats-link")
    page.click("text=Heartbeats")
    page.wait_for_load_state()
    assert page.url.endswith("/org/rosewood-florals/heartbeats/")
    page.screenshot(path=str(SHOTS / "vendor-heartbeats-phone.png"), full_page=True)
    assert "Payments reconciliation" not in page.inner_text("body")  # Brooklyn Bakes' check
    page.fill("input[name=name]", "Thank-you cards")
    page.select_option("select[name=kind]", "cron")
    page.fill("input[name=cron]", "30 9 * * 1")
    page.fill("input[name=grace_minutes]", "30")
    page.click("text=Create check")
    page.wait_for_load_state()
    assert page.url.startswith(f"{base}/org/rosewood-florals/heartbeats/") and not page.url.endswith("/heartbeats/")
    ping_url = page.inner_text("code.ping-url").strip()
    assert "30 9 * * 1 /usr/local/bin/backup.sh" in page.inner_text("body")
    # The page shows PORTAL_BASE_URL's address; the live test server listens elsewhere.
    response = requests.post(base + ping_url[ping_url.index("/ping/") :], data=b"sent 14 cards", timeout=10)
    assert response.text == "OK"
    page.reload()
    page.screenshot(path=str(SHOTS / "vendor-heartbeat-pinged-phone.png"), full_page=True)
    assert "sent 14 cards" in page.content() and "up" in page.inner_text("h1")
    for path in (
        "/ops/heartbeats/",
        "/ops/jobs/",
        f"/ops/heartbeats/{heartbeat_demo['down_id']}/",
        "/org/brooklyn-bakes/heartbeats/",
        f"/org/rosewood-florals/heartbeats/{heartbeat_demo['down_id']}/",
    ):
        _visit(page, base, path, "vendor-denied-" + path.strip("/").replace("/", "-")[:60], expect_status=404)
    context.close()
    assert [e for e in errors if "404" not in e] == []
