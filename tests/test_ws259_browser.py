"""Issue 18's pages in a real browser (Debian's Chromium, Playwright, live server): the vendor APM page's
performance sections, /ops/performance/ and an incident's correlated errors, at 1440×900 and 390×844,
with no console errors; the seeded demo data (demo.performance) is what they show."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.test_browser import _login, _visit, _watch_console, browser  # noqa: F401 (the fixture)
from wedsync_ops.tenancy.context import service_context

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def perf_demo(transactional_db, django_user_model):
    from demo.performance import demo_performance_seed
    from incidents.services import incident_create
    from wedsync_ops.tenancy.models import Organization, UserProfile

    now = timezone.now()
    with service_context():
        org_a = Organization.objects.create(slug="rosewood-florals", name="Rosewood Florals", timezone="Europe/London")
        org_b = Organization.objects.create(slug="bloom-and-vine", name="Bloom & Vine", timezone="Australia/Sydney")
        django_user_model.objects.create_user("ops", password="ops-browser-pass", is_staff=True, is_superuser=True)
        alice = django_user_model.objects.create_user("alice", password="alice-browser-pass")
        UserProfile.objects.create(user=alice, organization=org_a, role="admin")
        seeded = demo_performance_seed(organizations={"a": org_a, "b": org_b}, now=now, minutes=20)
        incident = incident_create(
            organization=org_a,
            title="Payments failing",
            by=None,
            now=now - dt.timedelta(minutes=4),
            priority="p1",
            severity="critical",
        )
    assert seeded["rolled_up"]["api_performance"] > 0 and seeded["correlations"] > 0
    return {"incident_id": incident.pk}


def _no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.slow
def test_vendor_performance_sections_render_without_errors(live_server, browser, perf_demo):  # noqa: F811
    for size in sorted(VIEWPORTS):
        _vendor_pages(live_server, browser, size)


def _vendor_pages(live_server, browser, size):  # noqa: F811
    context = browser.new_context(viewport=VIEWPORTS[size], is_mobile=size == "phone")
    page = context.new_page()
    errors = _watch_console(page)
    _login(page, live_server.url, "alice", "alice-browser-pass")
    _visit(page, live_server.url, "/org/rosewood-florals/apm/", f"issue18-vendor-apm-{size}")
    body = page.inner_text("body")
    assert "Endpoints" in body and "/api/payments/charge" in body
    assert "Core Web Vitals" in body and "/gallery" in body
    assert "User journeys" in body and "open_form → submit → confirmation" in body
    assert page.locator("#apm-endpoints svg").count() == 1 and page.locator("#apm-journeys svg").count() == 2
    assert _no_sideways_scroll(page)
    _visit(page, live_server.url, "/ops/performance/", f"issue18-vendor-denied-{size}", expect_status=404)
    context.close()
    assert [e for e in errors if "404" not in e] == []


@pytest.mark.slow
def test_staff_performance_and_correlated_errors_render_without_errors(live_server, browser, perf_demo):  # noqa: F811
    for size in sorted(VIEWPORTS):
        _staff_pages(live_server, browser, perf_demo, size)


def _staff_pages(live_server, browser, perf_demo, size):  # noqa: F811
    context = browser.new_context(viewport=VIEWPORTS[size], is_mobile=size == "phone")
    page = context.new_page()
    errors = _watch_console(page)
    _login(page, live_server.url, "ops", "ops-browser-pass")
    _visit(page, live_server.url, "/ops/performance/", f"issue18-ops-performance-{size}")
    body = page.inner_text("body")
    assert "Performance across organizations" in body and "bloom-and-vine" in body and "rosewood-florals" in body
    assert "Database statements" in body
    assert _no_sideways_scroll(page)
    _visit(page, live_server.url, f"/ops/incidents/{perf_demo['incident_id']}/", f"issue18-incident-{size}")
    body = page.inner_text("body")
    assert "Correlated errors" in body and "First cause (likely origin): payments-db" in body
    assert "Automated recovery" in body
    assert _no_sideways_scroll(page)
    context.close()
    assert errors == []
