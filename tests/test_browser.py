"""The portal in a real browser: Debian's Chromium driven by Playwright against a live server.

Logs in as staff and as a vendor, walks the pages, creates a silence from an
alert ("silence this", with its preview), acknowledges an incident from the admin,
asserts the browser logged no console errors and saves a
screenshot of every page to test-artifacts/screenshots/.
"""

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from wedsync_ops.tenancy.context import service_context

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"


@pytest.fixture
def browser():
    """A headless Chromium; fails (never skips) with the install command when it is missing."""
    if not shutil.which(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: run `make test` (it installs it as root) or `sudo apt-get install -y chromium`"
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # tests make between page visits are ordinary blocking calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()
        connections.close_all()  # a connection opened under Playwright's loop must not outlive the test
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def demo(transactional_db, django_user_model):
    """Committed data for the live server: two organizations, a wedding today, a critical alert and its incident."""
    from alerts.services import alert_fire
    from wedsync_ops.tenancy.models import Organization, UserProfile, Wedding

    now = timezone.now()
    with service_context():
        org_a = Organization.objects.create(slug="rosewood-florals", name="Rosewood Florals", timezone="Europe/London")
        org_b = Organization.objects.create(slug="bloom-and-vine", name="Bloom & Vine", timezone="Australia/Sydney")
        local_today = now.astimezone(org_a.tz).date()
        Wedding.objects.create(
            organization=org_a,
            wedding_date=local_today,
            couple_name="Ana & Zara",
            venue_name="Château des Vignes",
            ceremony_time=dt.time(13, 0),
        )
        Wedding.objects.create(
            organization=org_b,
            wedding_date=now.astimezone(org_b.tz).date(),
            couple_name="Bob's Couple",
            venue_name="Harbour",
        )
        staff = django_user_model.objects.create_user(
            "ops", password="ops-browser-pass", is_staff=True, is_superuser=True
        )
        alice = django_user_model.objects.create_user("alice", password="alice-browser-pass")
        UserProfile.objects.create(user=alice, organization=org_a, role="admin")
        alert, _ = alert_fire(
            organization_id=org_a.id,
            fingerprint="3d35165a267914d1",
            source="alertmanager",
            title="p95 checkout latency 2.4s > 1s",
            labels={"alertname": "HighCheckoutLatency", "severity": "critical"},
            annotations={},
            severity="critical",
            priority="high",
            starts_at=now - dt.timedelta(minutes=3),
            now=now,
        )
        alert.refresh_from_db()
        from apm.services import dashboard_save
        from incidents.runbooks import runbook_save

        runbook = runbook_save(
            title="Checkout latency",
            content="## Checkout is slow\n\n1. Check the provider.",
            by=None,
            now=now,
            alertname="HighCheckoutLatency",
        )
        dashboard = dashboard_save(
            organization=org_a,
            name="Checkout",
            by=None,
            widgets=[
                {
                    "title": "Checkout p95",
                    "service": "payments",
                    "metric": "http.request.duration_ms",
                    "aggregation": "p95",
                    "window": "24h",
                    "chart": "line",
                }
            ],
        )
    return {
        "org_a": org_a,
        "org_b": org_b,
        "staff": staff,
        "alice": alice,
        "incident_id": alert.incident_id,
        "alert_id": alert.id,
        "runbook_id": runbook.pk,
        "dashboard_id": dashboard.pk,
    }


def _login(page, base, username, password):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()


def _visit(page, base, path, name, expect_status=200):
    response = page.goto(f"{base}{path}")
    assert response.status == expect_status, (path, response.status)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    return response


def _watch_console(page):
    errors = []
    page.on(
        "console",
        lambda msg: (
            errors.append(f"{page.url}: {msg.text} {msg.location.get('url', '')}") if msg.type == "error" else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    return errors


@pytest.mark.slow
def test_staff_walks_the_pages_and_acknowledges_an_incident(live_server, browser, demo):
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = _watch_console(page)
    _login(page, base, "ops", "ops-browser-pass")
    assert page.url.endswith("/ops/saturday/")

    _visit(page, base, "/ops/saturday/", "staff-saturday")
    body = page.inner_text("body")
    assert "WEDDING DAY: p95 checkout latency 2.4s > 1s" in body or "p95 checkout latency 2.4s > 1s" in body
    assert "Ana & Zara" in body
    # The dashboard refreshes in place: a new alert appears without a reload.
    _visit(page, base, "/ops/saturday/?refresh=2", "staff-saturday-live")
    page.evaluate("window.__sameDocument = true")
    from alerts.services import alert_fire

    with service_context():
        alert_fire(
            organization_id=demo["org_a"].id,
            fingerprint="00000000live0001",
            source="alertmanager",
            title="Gallery uploads failing (live)",
            labels={"alertname": "GalleryUploads"},
            annotations={},
            severity="warning",
            priority="medium",
            starts_at=timezone.now(),
            now=timezone.now(),
        )
    page.wait_for_selector("text=Gallery uploads failing (live)", timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True  # no full reload happened
    page.set_viewport_size({"width": 1920, "height": 1080})
    _visit(page, base, "/ops/saturday/?wall=1", "staff-saturday-wall-screen")
    page.set_viewport_size({"width": 390, "height": 844})
    _visit(page, base, "/ops/saturday/", "staff-saturday-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    _visit(page, base, "/ops/db/", "staff-db")
    _visit(page, base, "/org/bloom-and-vine/", "staff-org-bloom")
    _visit(page, base, "/admin/", "staff-admin")
    _visit(page, base, "/admin/alerts/alerthistory/", "staff-admin-alerts")
    _visit(page, base, "/admin/notifications/notificationdelivery/", "staff-admin-deliveries")

    # The incident pages and the reports.
    _visit(page, base, "/ops/incidents/", "staff-incidents")
    _visit(page, base, f"/ops/incidents/{demo['incident_id']}/", "staff-incident-detail")
    _visit(page, base, "/ops/incidents/reports/", "staff-incident-reports")
    _visit(page, base, f"/ops/runbooks/{demo['runbook_id']}/", "staff-runbook")
    assert "Check the provider." in page.inner_text("body")
    _visit(page, base, "/org/rosewood-florals/incidents/", "staff-org-status-page")
    _visit(page, base, "/org/rosewood-florals/alerts/rules/", "staff-org-rules")
    _visit(page, base, "/org/rosewood-florals/apm/", "staff-org-apm")
    _visit(page, base, "/admin/apm/apmmetric/", "staff-admin-metrics")
    _visit(page, base, "/admin/incidents/escalationpolicy/", "staff-admin-escalation")
    _visit(page, base, "/admin/apm/apmmetricaggregation/", "staff-admin-aggregations")
    _visit(page, base, "/admin/tenancy/organization/", "staff-admin-organizations")

    # Silence the alert from the alert list ("silence this"), with its preview, then save it.
    _visit(page, base, "/admin/alerts/alerthistory/", "staff-admin-alerts-before-silence")
    page.check(f"input[name=_selected_action][value='{demo['alert_id']}']")
    page.select_option("select[name=action]", "silence_selected")
    page.click("button[name=index]")
    page.wait_for_load_state()
    assert "/admin/alerts/suppressionrule/add/" in page.url
    assert "p95 checkout latency 2.4s > 1s" in page.inner_text("body")  # the preview lists the alert
    ends = timezone.localtime(timezone.now() + dt.timedelta(hours=2))
    page.fill("input[name=ends_at_0]", ends.strftime("%Y-%m-%d"))
    page.fill("input[name=ends_at_1]", ends.strftime("%H:%M:%S"))
    page.screenshot(path=str(SHOTS / "staff-silence-form.png"), full_page=True)
    page.click("input[name=_save]")
    page.wait_for_load_state()
    assert "/admin/alerts/suppressionrule/" in page.url and "add" not in page.url

    # Acknowledge the incident with the admin action.
    _visit(page, base, "/admin/incidents/incident/", "staff-admin-incidents")
    page.check(f"input[name=_selected_action][value='{demo['incident_id']}']")
    page.select_option("select[name=action]", "acknowledge_selected")
    page.click("button[name=index]")
    page.wait_for_load_state()
    page.screenshot(path=str(SHOTS / "staff-incident-acknowledged.png"), full_page=True)
    context.close()

    from alerts.models import AlertHistory, SuppressionRule
    from incidents.models import Incident

    with service_context():
        assert SuppressionRule.objects.filter(kind="silence").count() == 1
        assert AlertHistory.objects.get(pk=demo["alert_id"]).status == "suppressed"
        incident = Incident.objects.get(pk=demo["incident_id"])
        assert incident.status == "acknowledged" and incident.acknowledged_at is not None
        assert incident.updates.filter(kind="status_change").exists()
    assert errors == []


@pytest.mark.slow
def test_vendor_sees_its_organization_and_nothing_else_on_a_phone(live_server, browser, demo):
    base = live_server.url
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    errors = _watch_console(page)
    _login(page, base, "alice", "alice-browser-pass")
    assert page.url.endswith("/org/rosewood-florals/")
    _visit(page, base, "/org/rosewood-florals/", "vendor-org-phone")
    body = page.inner_text("body")
    assert "Rosewood Florals" in body and "Ana & Zara" in body
    assert "Bob's Couple" not in body and "Bloom" not in body
    _visit(page, base, "/org/rosewood-florals/incidents/", "vendor-status-page-phone")
    _visit(page, base, f"/org/rosewood-florals/incidents/{demo['incident_id']}/", "vendor-incident-phone")
    _visit(page, base, "/org/rosewood-florals/alerts/rules/", "vendor-rules-phone")
    _visit(page, base, "/org/rosewood-florals/alerts/silences/", "vendor-silences-phone")
    _visit(page, base, "/org/rosewood-florals/alerts/channels/", "vendor-channels-phone")
    _visit(page, base, "/org/rosewood-florals/apm/", "vendor-apm-phone")
    _visit(page, base, "/org/rosewood-florals/dashboards/new/", "vendor-dashboard-new-phone")
    _visit(page, base, f"/org/rosewood-florals/dashboards/{demo['dashboard_id']}/", "vendor-dashboard-phone")
    _visit(page, base, f"/org/rosewood-florals/dashboards/{demo['dashboard_id']}/edit/", "vendor-dashboard-edit-phone")
    for path in (
        "/org/bloom-and-vine/",
        "/org/bloom-and-vine/incidents/",
        "/org/bloom-and-vine/alerts/silences/",
        "/org/bloom-and-vine/apm/",
        "/ops/saturday/",
        "/ops/db/",
        "/ops/incidents/",
        f"/ops/incidents/{demo['incident_id']}/",
    ):
        _visit(page, base, path, "vendor-denied-" + path.strip("/").replace("/", "-"), expect_status=404)
    context.close()
    # The 404s above are expected answers, not page errors.
    assert [e for e in errors if "404" not in e] == []
