"""The server-rendered pages: /, /ops/saturday/ (staff) and /org/<slug>/ (that organization's users, or staff).

Python time is frozen at FRIDAY_NIGHT (2026-06-12 22:30 UTC): still Friday
23:30 in London, already Saturday 08:30 in Sydney, Friday 17:30 in Chicago.
"Today" is therefore a different date per organization.
"""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import AlertHistory
from apm.models import ApmMetricAggregation
from incidents.models import Incident, IncidentUpdate
from notifications.models import NotificationChannel, NotificationDelivery
from tests.factories import make_wedding
from wedsync_ops.pages import selectors
from wedsync_ops.tenancy.context import service_context, staff_context, vendor_context
from wedsync_ops.tenancy.models import Organization, Wedding

FRIDAY_NIGHT = dt.datetime(2026, 6, 12, 22, 30, tzinfo=dt.UTC)
LONDON_FRIDAY = dt.date(2026, 6, 12)
SYDNEY_SATURDAY = dt.date(2026, 6, 13)


@pytest.fixture
def frozen():
    with time_machine.travel(FRIDAY_NIGHT, tick=False):
        yield FRIDAY_NIGHT


@pytest.fixture
def cast(world, frozen):
    """world + org_c (Chicago, no wedding: mode off), org_d (Tokyo: Saturday) + weddings, incidents, alerts …"""
    w = world
    with service_context():
        w.org_c = Organization.objects.create(
            slug="windy-city-catering", name="Windy City Catering", timezone="America/Chicago"
        )
        # Tokyo: already Saturday 07:30, no wedding.
        w.org_d = Organization.objects.create(slug="sakura-events", name="Sakura Events", timezone="Asia/Tokyo")
        # org_a (London): today is Friday 12 June.
        w.alice_wedding = make_wedding(
            w.org_a,
            date=LONDON_FRIDAY,
            couple_name="Ada & Arthur",
            venue_name="The Old Orangery",
            ceremony_time=dt.time(14, 0),
        )
        w.alice_saturday = make_wedding(
            w.org_a, date=SYDNEY_SATURDAY, couple_name="Ivy & Isaac", ceremony_time=dt.time(12, 0)
        )
        make_wedding(w.org_a, date=LONDON_FRIDAY, couple_name="Cancelled & Couple", status="cancelled")
        make_wedding(w.org_a, date=LONDON_FRIDAY + dt.timedelta(days=61), couple_name="Far & Future")  # not "upcoming"
        # org_b (Sydney): today is Saturday 13 June.
        w.bob_wedding = make_wedding(
            w.org_b,
            date=SYDNEY_SATURDAY,
            couple_name="Bella & Ben",
            venue_name="Harbourside Pavilion",
            ceremony_time=dt.time(16, 30),
        )
        make_wedding(w.org_b, date=LONDON_FRIDAY, couple_name="Yesterday & Gone")  # Friday in Sydney was yesterday
        w.bob_incident = Incident.objects.create(
            organization=w.org_b,
            title="WEDDING DAY: Checkout latency high for Bloom & Vine",
            priority="p0",
            severity="critical",
            wedding_impact="wedding_day_critical",
            wedding=w.bob_wedding,
            detected_at=FRIDAY_NIGHT - dt.timedelta(minutes=10),
        )
        w.alice_incident = Incident.objects.create(
            organization=w.org_a,
            title="Gallery uploads slow for Rosewood",
            priority="p2",
            status="investigating",
            detected_at=FRIDAY_NIGHT - dt.timedelta(hours=2),
        )
        IncidentUpdate.objects.create(
            organization=w.org_a,
            incident=w.alice_incident,
            kind="note",
            vendor_visible=True,
            message="We are moving uploads to a second region.",
        )
        IncidentUpdate.objects.create(
            organization=w.org_a,
            incident=w.alice_incident,
            kind="note",
            vendor_visible=False,
            message="internal: blame the CDN vendor",
        )
        Incident.objects.create(
            organization=w.org_a,
            title="Old resolved thing",
            status="resolved",
            detected_at=FRIDAY_NIGHT - dt.timedelta(days=3),
        )
        w.bob_alert = AlertHistory.objects.create(
            organization=w.org_b,
            source="rule",
            fingerprint="b0b0b0b0b0b0b0b0",
            severity="critical",
            priority="high",
            title="Checkout latency high for Bloom & Vine",
            value=1234.5,
            threshold=400.0,
            threshold_reason="wedding day: local Saturday 2026-06-13",
            starts_at=FRIDAY_NIGHT - dt.timedelta(minutes=12),
            incident=w.bob_incident,
        )
        w.unassigned_alert = AlertHistory.objects.create(
            organization=None,
            source="alertmanager",
            fingerprint="0000111122223333",
            severity="warning",
            title="Disk 91% full on db-replica-2",
            starts_at=FRIDAY_NIGHT - dt.timedelta(minutes=50),
        )
        AlertHistory.objects.create(
            organization=w.org_a,
            source="rule",
            fingerprint="aaaa",
            status="resolved",
            title="Long gone alert",
            starts_at=FRIDAY_NIGHT - dt.timedelta(days=1),
            resolved_at=FRIDAY_NIGHT - dt.timedelta(hours=20),
        )
        channel = NotificationChannel.objects.create(
            organization=None, kind="webhook", name="Ops webhook", config={"url": "http://127.0.0.1:9/hook"}
        )
        NotificationDelivery.objects.create(
            channel=channel,
            event="incident.opened",
            incident_id=w.bob_incident.pk,
            status="delivered",
            payload={"title": w.bob_incident.title, "organization": w.org_b.slug},
            attempts=1,
            delivered_at=FRIDAY_NIGHT - dt.timedelta(minutes=9),
        )
        NotificationDelivery.objects.create(
            channel=channel,
            event="alert.firing",
            alert_id=w.unassigned_alert.pk,
            status="failed",
            payload={"title": w.unassigned_alert.title, "organization": None},
            attempts=6,
            last_error="connection refused",
        )
        for org, service, p95 in ((w.org_a, "booking-api", 180.0), (w.org_b, "payments", 950.0)):
            ApmMetricAggregation.objects.create(
                organization=org,
                service=service,
                metric_name="http.request.duration_ms",
                bucket_seconds=60,
                bucket_start=FRIDAY_NIGHT - dt.timedelta(minutes=2),
                count=40,
                sum=1.0,
                min=1.0,
                max=p95 + 50,
                avg=p95 / 2,
                p50=p95 / 2,
                p95=p95,
                p99=p95 + 20,
            )
    return w


def section(html: str, section_id: str) -> str:
    """The HTML of ``<section … id="section_id">…</section>`` (fails the test if absent)."""
    match = re.search(rf'<section[^>]*id="{section_id}"[^>]*>(.*?)</section>', html, re.S)
    assert match, f"no section {section_id!r}"
    return match.group(1)


def get(client, user, url):
    if user is not None:
        client.force_login(user)
    return client.get(url)


# --- /ops/saturday/ --------------------------------------------------------------


def test_saturday_dashboard_shows_todays_weddings_in_each_organizations_local_date_and_zone(client, cast):
    response = get(client, cast.staff, "/ops/saturday/")
    assert response.status_code == 200
    weddings = section(response.content.decode(), "weddings-today")
    # London's today is Friday 12 June, Sydney's is Saturday 13 June.
    assert "Ada &amp; Arthur" in weddings and "Bella &amp; Ben" in weddings
    assert "14:00 BST" in weddings and "Europe/London" in weddings and "13:00 UTC" in weddings
    assert "16:30 AEST" in weddings and "Australia/Sydney" in weddings and "06:30 UTC" in weddings
    # Not today locally: London's Saturday wedding, Sydney's Friday wedding; cancelled ones never.
    assert "Ivy &amp; Isaac" not in weddings
    assert "Yesterday &amp; Gone" not in weddings
    assert "Cancelled &amp; Couple" not in weddings


def test_saturday_dashboard_lists_organizations_in_wedding_day_mode_with_the_reason(client, cast):
    html = get(client, cast.staff, "/ops/saturday/").content.decode()
    mode = section(html, "wedding-day-mode")
    assert "Bloom &amp; Vine" in mode and "a wedding on 2026-06-13" in mode
    assert "Sakura Events" in mode and "local Saturday 2026-06-13" in mode and "Sat 13 Jun 07:30 JST" in mode
    assert "Rosewood Florals" in mode and "a wedding on 2026-06-12" in mode
    assert "Windy City Catering" not in mode  # Friday afternoon in Chicago, no wedding


def test_saturday_dashboard_shows_the_wedding_day_incident_with_its_wedding_and_open_alerts(client, cast):
    html = get(client, cast.staff, "/ops/saturday/").content.decode()
    incidents = section(html, "incidents")
    assert "WEDDING DAY: Checkout latency high for Bloom &amp; Vine" in incidents
    assert "p0" in incidents and "Bella &amp; Ben" in incidents
    assert "Gallery uploads slow for Rosewood" in incidents
    assert "Old resolved thing" not in incidents
    # p0 before p2
    assert incidents.index("WEDDING DAY") < incidents.index("Gallery uploads slow")

    alerts = section(html, "alerts")
    assert "Checkout latency high for Bloom &amp; Vine" in alerts and "1234.5" in alerts
    assert "Disk 91% full on db-replica-2" in alerts
    unassigned_row = next(row for row in alerts.split("<tr>") if "db-replica-2" in row)
    assert "unassigned" in unassigned_row
    assert "Long gone alert" not in alerts


def test_saturday_dashboard_shows_delivery_status_p95_database_and_data_time(client, cast):
    html = get(client, cast.staff, "/ops/saturday/").content.decode()
    assert "data as of" in html and "22:30:00 UTC" in html
    assert 'data-live data-refresh-seconds="30"' in html and "js/live.js" in html

    notifications = section(html, "notifications")
    delivered = next(row for row in notifications.split("<tr>") if "incident.opened" in row)
    assert "delivered" in delivered and "WEDDING DAY" in delivered
    failed = next(row for row in notifications.split("<tr>") if "alert.firing" in row)
    assert "failed" in failed and "connection refused" in failed

    p95 = section(html, "p95")
    assert "unavailable" not in p95, p95
    payments = next(row for row in p95.split("<tr>") if "payments" in row)
    assert "Bloom &amp; Vine" in payments and "950 ms" in payments and "slow" in payments
    booking = next(row for row in p95.split("<tr>") if "booking-api" in row)
    assert "Rosewood Florals" in booking and "180 ms" in booking and "ok" in booking

    database = section(html, "database")
    assert "unavailable" not in database, database
    assert "Connections" in database and "Slow queries" in database


def test_saturday_p95_table_shows_the_slowest_series_first_and_counts_the_rest(client, cast):
    """30 more series: the table holds the 25 slowest, highest p95 first, and says how many there are."""
    bucket = FRIDAY_NIGHT.replace(second=0) - dt.timedelta(minutes=2)
    with service_context():
        for i in range(30):
            ApmMetricAggregation.objects.create(
                organization=cast.org_c,
                service=f"svc-{i:02d}",
                metric_name="http.duration_ms",
                bucket_seconds=60,
                bucket_start=bucket,
                count=5,
                sum=1,
                min=1,
                max=1,
                avg=1,
                p50=1,
                p95=100.0 + 20 * i,  # svc-29: 680 ms (slow), svc-15..28: 400-660 ms (watch)
                p99=1,
            )
    html = get(client, cast.staff, "/ops/saturday/").content.decode()
    rows = section(html, "p95").split("<tr>")[2:]
    assert len(rows) == selectors.SATURDAY_P95_ROWS == 25
    # cast's own series: payments 950 ms (slow) first, then svc-29 down; booking-api (180 ms) is cut.
    assert "payments" in rows[0] and "950 ms" in rows[0]
    assert "svc-29" in rows[1] and "680 ms" in rows[1] and "svc-06" in rows[24]
    assert "booking-api" not in section(html, "p95")
    with staff_context():
        total = len(selectors.latest_latency_p95(now=FRIDAY_NIGHT))
    # Slow: payments (950 ms); to watch (400-799 ms): svc-15 .. svc-29.
    assert total > 30 and f"The 25 slowest of {total} series (1 slow, 15 to watch)" in section(html, "p95")


def test_saturday_dashboard_query_count_does_not_grow_with_rows(client, cast):
    client.force_login(cast.staff)
    client.get("/ops/saturday/")  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as before:
        assert client.get("/ops/saturday/").status_code == 200
    with service_context():
        for i in range(5):
            org = Organization.objects.create(slug=f"extra-{i}", name=f"Extra {i}", timezone="Asia/Tokyo")
            wedding = Wedding.objects.create(
                organization=org, wedding_date=SYDNEY_SATURDAY, couple_name=f"Extra {i}", ceremony_time=dt.time(11)
            )
            incident = Incident.objects.create(organization=org, title=f"Extra incident {i}", wedding=wedding)
            alert = AlertHistory.objects.create(
                organization=org,
                source="rule",
                fingerprint=f"extra{i}",
                title=f"Extra alert {i}",
                starts_at=FRIDAY_NIGHT,
                incident=incident,
            )
            channel = NotificationChannel.objects.create(organization=org, kind="webhook", name=f"hook {i}")
            NotificationDelivery.objects.create(channel=channel, event="alert.firing", alert_id=alert.pk, payload={})
    with CaptureQueriesContext(connection) as after:
        html = client.get("/ops/saturday/").content.decode()
    assert "Extra incident 4" in html and "Extra alert 4" in html
    assert len(after.captured_queries) == len(before.captured_queries)


def test_saturday_dashboard_is_staff_only(client, cast):
    for user in (cast.alice, cast.bob, cast.charlie):
        client.force_login(user)
        assert client.get("/ops/saturday/").status_code == 404, user
    client.logout()
    response = client.get("/ops/saturday/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/ops/saturday/"


def test_a_failing_panel_is_shown_as_unavailable_and_the_rest_still_renders(cast):
    def broken():
        with connection.cursor() as cur:
            cur.execute("SELECT no_such_function()")

    with service_context():
        panel = selectors.load_panel("broken", broken)
        # The savepoint rolled back: the transaction is still usable.
        assert selectors.weddings_today(now=FRIDAY_NIGHT)
    assert not panel.ok and "broken unavailable" in panel.error


# --- /org/<slug>/ ------------------------------------------------------------------


def test_vendor_sees_her_organizations_page_with_only_its_incidents_and_weddings(client, cast):
    response = get(client, cast.alice, "/org/rosewood-florals/")
    assert response.status_code == 200
    html = response.content.decode()

    incidents = section(html, "incidents")
    assert "Gallery uploads slow for Rosewood" in incidents and "investigating" in incidents
    assert "We are moving uploads to a second region." in incidents
    assert "internal: blame the CDN vendor" not in html

    weddings = section(html, "weddings")
    assert "Ada &amp; Arthur" in weddings and "Ivy &amp; Isaac" in weddings and "14:00 BST" in weddings
    assert "Far &amp; Future" not in weddings and "Cancelled &amp; Couple" not in weddings

    assert "Wedding-day mode is ON today" in html and "a wedding on 2026-06-12" in html

    services = section(html, "services")
    assert "booking-api" in services and "180 ms" in services

    # Nothing of bob's organization, nothing staff-only.
    for foreign in (
        "Bella &amp; Ben",
        "Bloom &amp; Vine",
        "bloom-and-vine",
        "payments",
        "WEDDING DAY",
        "db-replica-2",
        "Connections",
        "Ops webhook",
    ):
        assert foreign not in html, foreign


def test_staff_viewing_an_organization_page_sees_that_organization_only(client, cast):
    html = get(client, cast.staff, "/org/rosewood-florals/").content.decode()
    assert "Gallery uploads slow for Rosewood" in html
    for foreign in ("Bella &amp; Ben", "WEDDING DAY", "db-replica-2", "payments"):
        assert foreign not in html, foreign


def test_organization_page_shows_wedding_day_mode_off_when_neither_wedding_nor_saturday(client, cast):
    html = get(client, cast.staff, "/org/windy-city-catering/").content.decode()
    assert "Wedding-day mode is off today" in html and "Friday 12 June" in html
    assert "No open incidents." in html


def test_another_organizations_page_answers_404_exactly_like_an_unknown_slug(client, cast):
    client.force_login(cast.alice)
    other = client.get("/org/bloom-and-vine/")
    unknown = client.get("/org/no-such-org/")
    assert other.status_code == unknown.status_code == 404
    assert other.content == unknown.content
    assert b"Bloom" not in other.content


def test_user_without_organization_and_unknown_slug_get_404(client, cast):
    client.force_login(cast.charlie)
    assert client.get("/org/rosewood-florals/").status_code == 404
    client.force_login(cast.staff)
    assert client.get("/org/no-such-org/").status_code == 404


def test_anonymous_visitors_are_sent_to_login(client, cast):
    response = client.get("/org/rosewood-florals/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/org/rosewood-florals/"


def test_organization_page_in_a_vendor_context_reads_nothing_of_other_organizations(cast):
    # The selector itself, under RLS as a vendor of org_a: even asking for org_b's rows returns nothing.
    with vendor_context(cast.org_a.id):
        assert selectors.open_incidents(organization_id=cast.org_b.id) == []
        assert selectors.upcoming_weddings(organization=cast.org_b, now=FRIDAY_NIGHT) == []
        assert all(a.organization_id == cast.org_a.id for a in selectors.open_alerts())
        in_mode = selectors.organizations_in_wedding_day_mode(now=FRIDAY_NIGHT)
        assert {r.organization_id for r in in_mode} == {cast.org_a.id}


# --- home and login ------------------------------------------------------------------


def test_home_redirects_staff_to_saturday_vendors_to_their_organization_anonymous_to_login(client, cast):
    assert client.get("/")["Location"] == "/accounts/login/"
    client.force_login(cast.staff)
    assert client.get("/")["Location"] == "/ops/saturday/"
    client.force_login(cast.alice)
    assert client.get("/")["Location"] == "/org/rosewood-florals/"
    client.force_login(cast.bob)
    assert client.get("/")["Location"] == "/org/bloom-and-vine/"


def test_home_tells_a_user_without_organization_that_there_is_nothing_to_show(client, cast):
    client.force_login(cast.charlie)
    response = client.get("/")
    assert response.status_code == 403 and b"not a member of any organization" in response.content


def test_login_page_logs_a_vendor_in_and_lands_on_her_organization(client, cast):
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b'name="password"' in page.content
    response = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"}, follow=True)
    assert response.redirect_chain[-1][0] == "/org/rosewood-florals/"
    assert b"Rosewood Florals" in response.content
    bad = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert bad.status_code == 200 and b"didn't match" in bad.content


def test_panels_load_in_one_savepoint_and_a_broken_one_is_retried_alone(cast):
    def broken():
        with connection.cursor() as cur:
            cur.execute("SELECT no_such_function()")

    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql.split()[0].upper())
        return execute(sql, params, many, context)

    with service_context():
        with connection.execute_wrapper(record):
            fine = selectors.load_panels(
                {
                    "weddings": ("weddings", lambda: selectors.weddings_today(now=FRIDAY_NIGHT)),
                    "one": ("one", lambda: 1),
                }
            )
        assert statements.count("SAVEPOINT") == 1 and fine["one"].rows == 1 and fine["weddings"].rows
        panels = selectors.load_panels(
            {
                "weddings": ("weddings", lambda: selectors.weddings_today(now=FRIDAY_NIGHT)),
                "broken": ("broken", broken),
                "one": ("one", lambda: 1),
            }
        )
        assert selectors.weddings_today(now=FRIDAY_NIGHT)  # the transaction is still usable
    assert not panels["broken"].ok and "broken unavailable" in panels["broken"].error
    assert panels["weddings"].ok and panels["weddings"].rows and panels["one"].rows == 1
