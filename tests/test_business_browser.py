"""The business pages in a real browser (Debian's Chromium via Playwright) against a live server, on a laptop
(1440x900) and a phone (390x844): a vendor's funnels and revenue health, staff's overview, an incident's
business impact; no console errors, no sideways scrolling; screenshots in test-artifacts/screenshots/."""

import pytest
from django.utils import timezone

from tests.test_browser import _login, _visit, _watch_console, browser  # noqa: F401 (the browser fixture)
from wedsync_ops.tenancy.context import service_context

VIEWPORTS = {"laptop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def business_demo(transactional_db, django_user_model):
    from demo.business import OUTAGE_SLUG, demo_business_seed
    from incidents.services import incident_create
    from wedsync_ops.tenancy.models import Organization, UserProfile

    now = timezone.now()
    with service_context():
        orgs = {
            "rosewood-florals": Organization.objects.create(
                slug="rosewood-florals", name="Rosewood Florals", timezone="Europe/London"
            ),
            OUTAGE_SLUG: Organization.objects.create(
                slug=OUTAGE_SLUG, name="Acme Weddings", timezone="America/New_York"
            ),
        }
        demo_business_seed(organizations=orgs, now=now, weeks=2)
        incident = incident_create(
            organization=orgs[OUTAGE_SLUG],
            title="Card payments failing",
            by=None,
            now=now,
            severity="critical",
            priority="p1",
        )
        django_user_model.objects.create_user("ops", password="ops-browser-pass", is_staff=True, is_superuser=True)
        alice = django_user_model.objects.create_user("alice", password="alice-browser-pass")
        UserProfile.objects.create(user=alice, organization=orgs["rosewood-florals"], role="admin")
    return {"incident_id": incident.id}


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


@pytest.mark.slow
def test_vendor_and_staff_business_pages_render_without_errors(live_server, browser, business_demo):  # noqa: F811
    base = live_server.url
    for viewport, size in VIEWPORTS.items():
        for username, password, pages in (
            ("alice", "alice-browser-pass", [("/org/rosewood-florals/business/", "vendor-business")]),
            (
                "ops",
                "ops-browser-pass",
                [
                    ("/ops/business/", "staff-business"),
                    ("/org/acme-weddings/business/", "staff-org-business"),
                    (f"/ops/incidents/{business_demo['incident_id']}/", "staff-incident-impact"),
                    ("/ops/saturday/", "staff-saturday-impact"),
                ],
            ),
        ):
            context = browser.new_context(viewport=size, is_mobile=viewport == "phone")
            page = context.new_page()
            errors = _watch_console(page)
            _login(page, base, username, password)
            for path, name in pages:
                _visit(page, base, path, f"{name}-{viewport}")
                _no_sideways_scroll(page)
                body = page.inner_text("body")
                if path.startswith("/org/"):
                    assert page.locator("svg.chart").count() >= 3
                    assert "Enquiry to payment" in body and "Weddings in the next 30 days" in body
                if "incidents" in path or "saturday" in path:
                    assert "payments failing:" in body and "above normal" in body
            assert errors == [], errors
            if username == "alice":  # another organization's page: 404 (asked with the session, no console)
                assert page.request.get(f"{base}/org/acme-weddings/business/").status == 404
            context.close()
