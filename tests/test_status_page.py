"""Public status pages (issue 14 §5): /status/<slug>/ and its Atom feed, without login.

What the public sees (services, 90-day uptime, open incidents with vendor-visible notes only,
maintenance), that nothing internal leaks, one identical 404 for unknown and private pages, one
set of queries per minute (cache on Redis), and reads in that one organization's vendor context.
"""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import AlertHistory, SuppressionRule
from apm.models import ServiceHealthCheck, ServiceHealthResult
from incidents.models import Incident, IncidentUpdate
from incidents.services import incident_acknowledge, incident_create, incident_note_add
from status.selectors import build_status_page, day_state, forget_status_page, maintenance_schedule
from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.models import Organization

ATOM = "{http://www.w3.org/2005/Atom}"
# Text that exists in the database but must never reach the public page or feed.
SECRETS = (
    "HighCheckoutLatency",
    "rule-7f3a",
    "alertname",
    "10.0.4.17",
    "internal.example",
    "INTERNAL ONLY",
    "by staff",
    "fp-secret",
    "team_lead",
    "matchers",
    "=~",
)


@pytest.fixture
def public(world):
    """org_a's page is public, with two services, runs, a maintenance window and incidents; org_b's is not."""
    now = timezone.now()
    for slug in (world.org_a.slug, world.org_b.slug, "no-such-org"):
        forget_status_page(slug)
    with service_context():
        Organization.objects.filter(pk=world.org_a.pk).update(status_page_public=True)
        world.booking = ServiceHealthCheck.objects.create(
            organization=world.org_a,
            name="Booking site",
            category="platform",
            status="healthy",
            url="http://internal.example/secret-health",
            last_error="connection refused by 10.0.4.17",
        )
        world.payments = ServiceHealthCheck.objects.create(
            organization=world.org_a,
            name="Payments",
            category="payments",
            status="critical",
            url="http://internal.example/pay",
        )
        world.b_check = ServiceHealthCheck.objects.create(
            organization=world.org_b, name="Bloom private service", status="critical", url="http://b.example/"
        )
        runs = []
        for hours_ago in range(0, 48):
            at = now - dt.timedelta(hours=hours_ago)
            runs.append(
                ServiceHealthResult(health_check=world.booking, organization=world.org_a, checked_at=at, ok=True)
            )
            runs.append(
                ServiceHealthResult(
                    health_check=world.payments, organization=world.org_a, checked_at=at, ok=hours_ago % 2 == 0
                )
            )
        ServiceHealthResult.objects.bulk_create(runs)
        SuppressionRule.objects.create(
            organization=world.org_a,
            kind="maintenance",
            name="Database upgrade",
            weekdays=[6, 7],
            start_time=dt.time(2, 0),
            end_time=dt.time(4, 0),
            timezone="Europe/London",
            matchers=[{"name": "alertname", "op": "=~", "value": "HighCheckoutLatency"}],
        )
        alert = AlertHistory.objects.create(
            organization=world.org_a,
            source=AlertHistory.Source.ALERTMANAGER,
            fingerprint="fp-secret",
            title="HighCheckoutLatency rule-7f3a on payments",
            severity="critical",
            priority="high",
            labels={"alertname": "HighCheckoutLatency"},
            starts_at=now - dt.timedelta(minutes=30),
        )
        with connection.cursor() as cur:
            cur.execute("SELECT create_incident_from_alert(%s)", [alert.pk])
            (incident_id,) = cur.fetchone()
        world.auto = Incident.objects.get(pk=incident_id)
        incident_acknowledge(incident=world.auto, by=world.staff, now=now)
        incident_note_add(
            incident=world.auto,
            by=world.staff,
            now=now,
            vendor_visible=True,
            message="Card payments fail for some couples; we are rerouting them.",
        )
        incident_note_add(
            incident=world.auto,
            by=world.staff,
            now=now,
            vendor_visible=False,
            message="INTERNAL ONLY: matchers alertname=~HighCheckoutLatency on 10.0.4.17",
        )
        world.manual = incident_create(
            organization=world.org_a,
            title="Photo uploads are slow",
            by=world.staff,
            now=now - dt.timedelta(days=2),
            severity="warning",
        )
        Incident.objects.filter(pk=world.manual.pk).update(status="resolved", resolved_at=now - dt.timedelta(days=1))
        world.b_incident = incident_create(organization=world.org_b, title="Bloom outage", by=world.staff, now=now)
    yield world
    for slug in (world.org_a.slug, world.org_b.slug, "no-such-org"):
        forget_status_page(slug)


def test_the_public_page_shows_services_uptime_incidents_and_maintenance_without_login(public):
    response = Client().get(f"/status/{public.org_a.slug}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Rosewood Florals status" in page and "Major outage" in page
    assert "Booking site" in page and "Payments" in page and "Operational" in page and "Outage" in page
    assert page.count('class="status-strip"') == 2 and page.count("<rect") >= 180  # 90 days per service
    assert "100.00% uptime" in page and "50.00% uptime" in page
    assert "Service disruption" in page and "Identified" in page  # the alert's incident, by a generic title
    assert "Card payments fail for some couples; we are rerouting them." in page
    assert "Photo uploads are slow" in page and "Resolved" in page  # a person's title, resolved yesterday
    assert "Database upgrade" in page and "Sat, Sun 02:00–04:00 Europe/London" in page
    assert "Bloom" not in page  # another organization's services and incidents
    assert response["Cache-Control"] == "max-age=60"


def test_nothing_internal_leaks_into_the_page_or_the_feed(public):
    client = Client()
    for url in (f"/status/{public.org_a.slug}/", f"/status/{public.org_a.slug}/feed.atom"):
        body = client.get(url).content.decode()
        leaked = [s for s in SECRETS if s in body]
        assert leaked == [], (url, leaked)
        assert str(public.auto.pk) not in body and str(public.manual.pk) not in body  # no database ids
    with service_context():
        kinds = set(
            IncidentUpdate.objects.filter(incident=public.auto, vendor_visible=True).values_list("kind", flat=True)
        )
    assert {"created", "status_change"} <= kinds  # vendor-visible machine entries exist, and were left out


def test_the_feed_is_atom_with_one_entry_per_incident(public):
    response = Client().get(f"/status/{public.org_a.slug}/feed.atom")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed" and root.find(f"{ATOM}title").text == "Rosewood Florals status"
    titles = [e.find(f"{ATOM}title").text for e in root.findall(f"{ATOM}entry")]
    assert sorted(titles) == ["Photo uploads are slow (Resolved)", "Service disruption (Identified)"]
    content = "".join(e.find(f"{ATOM}summary").text or "" for e in root.findall(f"{ATOM}entry"))
    assert "rerouting them" in content


def test_unknown_and_private_pages_answer_the_same_404(public):
    client = Client()
    private = client.get(f"/status/{public.org_b.slug}/")
    unknown = client.get("/status/no-such-org/")
    assert private.status_code == unknown.status_code == 404
    assert private.content == unknown.content
    assert client.get(f"/status/{public.org_b.slug}/feed.atom").status_code == 404
    assert client.get("/status/no-such-org/feed.atom").status_code == 404
    # A logged-in member of the private organization gets the same answer as for an unknown page: the page is
    # public or absent (the styled 404's navigation differs for a logged-in person, so both are asked logged in).
    client.force_login(public.bob)
    member_private = client.get(f"/status/{public.org_b.slug}/")
    member_unknown = client.get("/status/no-such-org/")
    assert member_private.status_code == member_unknown.status_code == 404
    assert member_private.content == member_unknown.content


def _table_queries(captured) -> list[str]:
    """Queries that read data: not the tenant middleware's transaction (savepoints) and set_config/current_setting."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if "set_config" not in q["sql"]
        and "current_setting" not in q["sql"]
        and not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))
    ]


def test_a_second_visitor_costs_no_query_and_the_page_refreshes_after_the_cache(public):
    client = Client()
    with CaptureQueriesContext(connection) as first:
        assert client.get(f"/status/{public.org_a.slug}/").status_code == 200
    assert len(_table_queries(first)) >= 4
    with service_context():
        ServiceHealthCheck.objects.filter(pk=public.payments.pk).update(name="Payments (renamed)")
    with CaptureQueriesContext(connection) as second:
        again = Client().get(f"/status/{public.org_a.slug}/")
        feed = Client().get(f"/status/{public.org_a.slug}/feed.atom")
    assert _table_queries(second) == []
    assert "Payments (renamed)" not in again.content.decode() and feed.status_code == 200
    # 404s are cached too: probing slugs costs one query a minute each.
    Client().get("/status/no-such-org/")
    with CaptureQueriesContext(connection) as probe:
        assert Client().get("/status/no-such-org/").status_code == 404
    assert _table_queries(probe) == []
    forget_status_page(public.org_a.slug)  # the minute is over
    assert "Payments (renamed)" in Client().get(f"/status/{public.org_a.slug}/").content.decode()


def test_reads_run_in_the_organizations_vendor_context_only(public):
    """Every data query runs with app.role = vendor and app.org_id = the organization (RLS filters it)."""
    seen = []

    def spy(execute, sql, params, many, context):
        if "current_setting" not in sql and "set_config" not in sql and "SAVEPOINT" not in sql:
            with connection.cursor() as cur:
                cur.execute("SELECT current_setting('app.role', true), current_setting('app.org_id', true)")
                seen.append((cur.fetchone(), sql))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        page = build_status_page(public.org_a.slug, now=timezone.now())
    assert page is not None
    lookups = [s for s in seen if '"organizations"' in s[1]]
    assert [ctx for ctx, _sql in lookups] == [("service", "")]  # the slug lookup: one row, public pages only
    data = [ctx for ctx, sql in seen if '"organizations"' not in sql]
    assert len(data) >= 4 and set(data) == {("vendor", str(public.org_a.id))}


def test_day_states_and_schedule_words():
    assert day_state(0, 0) == ("none", None)
    assert day_state(24, 24) == ("up", 100.0)
    assert day_state(96, 100) == ("degraded", 96.0)
    assert day_state(12, 24) == ("down", 50.0)
    assert (
        maintenance_schedule(weekdays=[7, 6], start_time=dt.time(23, 0), end_time=dt.time(1, 0), timezone="UTC")
        == "Sat, Sun 23:00–01:00 (next day) UTC"
    )


def test_the_status_page_is_off_by_default(world):
    forget_status_page(world.org_a.slug)
    assert Organization._meta.get_field("status_page_public").default is False
    assert Client().get(f"/status/{world.org_a.slug}/").status_code == 404
    forget_status_page(world.org_a.slug)


def test_visitors_arriving_while_the_page_is_built_wait_for_it_instead_of_building_it_again(public):
    """The build lock: a second visitor during a build waits for the first one's page (no queries of its own)."""
    import threading

    from django.core.cache import cache

    from status.selectors import cache_key, status_page

    key = cache_key(public.org_a.slug)
    assert cache.add(f"{key}:building", 1, 10)  # another visitor is building it
    built = build_status_page(public.org_a.slug, now=timezone.now())
    timer = threading.Timer(0.3, lambda: cache.set(key, built, 60))
    timer.start()
    try:
        with CaptureQueriesContext(connection) as waiting:
            page = status_page(public.org_a.slug, now=timezone.now())
    finally:
        timer.join()
    assert page == built and _table_queries(waiting) == []
