"""The public status page, the History sections and tabs, and the API docs in a real browser (issue 14 §5–§7).

Debian's Chromium through Playwright against a live server, at 1440×900, 390×844 and 1920×1080, in light
and dark colour schemes: no console errors, nothing wider than the screen, a screenshot of each in
test-artifacts/screenshots/.
"""

import datetime as dt

import pytest
from django.utils import timezone

from tests.test_browser import SHOTS, _login, _visit, _watch_console, browser, demo  # noqa: F401
from wedsync_ops.tenancy.context import service_context

SIZES = {"desktop": (1440, 900), "phone": (390, 844), "wall": (1920, 1080)}
SCHEMES = ("light", "dark")


@pytest.fixture
def public_page(demo):  # noqa: F811
    """demo's Rosewood Florals with a public page: three services with 90 days of runs, a note, a maintenance."""
    from alerts.models import SuppressionRule
    from demo.health_checks import demo_health_checks_seed
    from incidents.models import Incident
    from incidents.services import incident_note_add
    from status.selectors import forget_status_page
    from wedsync_ops.tenancy.models import Organization

    now = timezone.now()
    with service_context():
        Organization.objects.filter(pk=demo["org_a"].pk).update(status_page_public=True)
        demo_health_checks_seed(organizations=[demo["org_a"]], now=now)
        SuppressionRule.objects.create(
            organization=demo["org_a"],
            kind="maintenance",
            name="Database upgrade",
            weekdays=[7],
            start_time=dt.time(2),
            end_time=dt.time(4),
            timezone="Europe/London",
            matchers=[{"name": "a", "op": "=", "value": "b"}],
        )
        incident = Incident.objects.get(pk=demo["incident_id"])
        incident_note_add(
            incident=incident,
            by=demo["staff"],
            now=now,
            vendor_visible=True,
            message="Card payments are slow for some couples; we are rerouting them.",
        )
    forget_status_page("rosewood-florals")
    yield demo
    forget_status_page("rosewood-florals")


def _no_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (page.url, width, page.viewport_size)


@pytest.mark.slow
def test_the_public_status_page_at_three_sizes_in_light_and_dark(live_server, browser, public_page):  # noqa: F811
    base = live_server.url
    for scheme in SCHEMES:
        for name, (width, height) in SIZES.items():
            context = browser.new_context(
                viewport={"width": width, "height": height}, color_scheme=scheme, is_mobile=name == "phone"
            )
            page = context.new_page()
            errors = _watch_console(page)
            _visit(page, base, "/status/rosewood-florals/", f"status-page-{name}-{scheme}")
            body = page.inner_text("body")
            assert "Rosewood Florals status" in body and "Booking site" in body and "Database upgrade" in body
            assert "rerouting them" in body and "HighCheckoutLatency" not in body
            assert page.locator("svg.status-strip").count() == 3
            strip = page.locator("svg.status-strip").first.bounding_box()
            assert strip["width"] <= width and strip["width"] > width * 0.5  # the strip fills its card
            _no_overflow(page)
            feed = page.goto(f"{base}/status/rosewood-florals/feed.atom")
            assert feed.status == 200 and "atom" in feed.headers["content-type"]
            _visit(page, base, "/status/bloom-and-vine/", f"status-page-private-{name}-{scheme}", expect_status=404)
            context.close()
            assert [e for e in errors if "404" not in e] == [], errors


@pytest.mark.slow
def test_history_tabs_and_sections_and_api_docs(live_server, browser, public_page):  # noqa: F811
    from incidents.models import Incident

    base = live_server.url
    incident_id = public_page["incident_id"]
    for scheme in SCHEMES:
        context = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme=scheme)
        page = context.new_page()
        errors = _watch_console(page)
        _login(page, base, "ops", "ops-browser-pass")
        # Change the incident's title in the admin: the History tab shows who did it.
        _visit(page, base, f"/admin/incidents/incident/{incident_id}/change/", f"history-admin-form-{scheme}")
        if scheme == "light":
            page.fill("input[name=title]", "Checkout latency (card payments)")
            page.click("input[name=_continue]")
            page.wait_for_load_state()
        page.click("a:has-text('incident history')")
        page.wait_for_load_state()
        page.screenshot(path=str(SHOTS / f"history-admin-events-{scheme}.png"), full_page=True)
        assert "/admin/audit/incidentevent/" in page.url
        assert page.locator("#result_list tbody tr").count() >= 2
        _visit(page, base, f"/ops/incidents/{incident_id}/#history", f"history-ops-incident-{scheme}")
        history = page.inner_text("#history")
        assert "ops" in history and "Checkout latency (card payments)" in history
        for name, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            _visit(page, base, f"/ops/incidents/{incident_id}/", f"history-ops-incident-{name}-{scheme}")
        page.set_viewport_size({"width": 1440, "height": 900})
        _visit(page, base, "/api/docs/", f"api-docs-swagger-{scheme}")
        page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
        page.screenshot(path=str(SHOTS / f"api-docs-swagger-{scheme}.png"), full_page=False)
        _visit(page, base, "/api/redoc/", f"api-docs-redoc-{scheme}")
        page.wait_for_selector("text=WedSync Ops API", timeout=20_000)
        page.screenshot(path=str(SHOTS / f"api-docs-redoc-{scheme}.png"), full_page=False)
        context.close()
        # Redoc's footer always asks for its logo from cdn.redoc.ly (offline it hides it on error); the CSP
        # blocks that request, so nothing leaves the machine. Any other console error fails the test.
        redoc_logo = [e for e in errors if "cdn.redoc.ly/redoc/logo-mini.svg" in e and "has been blocked" in e]
        assert len(redoc_logo) <= 1 and [e for e in errors if e not in redoc_logo] == [], errors

    # The vendor's incident page shows its History too, at each size.
    for scheme in SCHEMES:
        for name, (width, height) in SIZES.items():
            context = browser.new_context(
                viewport={"width": width, "height": height}, color_scheme=scheme, is_mobile=name == "phone"
            )
            page = context.new_page()
            errors = _watch_console(page)
            _login(page, base, "alice", "alice-browser-pass")
            _visit(
                page, base, f"/org/rosewood-florals/incidents/{incident_id}/", f"history-org-incident-{name}-{scheme}"
            )
            assert "History" in page.inner_text("#history")
            _no_overflow(page)
            context.close()
            assert errors == [], errors
    with service_context():
        assert Incident.objects.get(pk=incident_id).title == "Checkout latency (card payments)"
