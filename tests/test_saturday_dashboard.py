"""The Saturday dashboard's ranking and trends: what on-call staff look at first."""

import datetime as dt

from apm.models import ApmMetricAggregation
from incidents.models import Incident
from wedsync_ops.pages import selectors, triage
from wedsync_ops.tenancy.context import service_context, staff_context
from wedsync_ops.tenancy.models import Wedding

NOW = dt.datetime(2026, 6, 13, 10, 0, tzinfo=dt.UTC)  # Saturday 11:00 in London


def test_incidents_rank_p0_first_then_wedding_impact_then_time_to_ceremony(world):
    with service_context():
        soon = Wedding.objects.create(
            organization=world.org_a, wedding_date=NOW.date(), couple_name="Soon", ceremony_time=dt.time(12, 0)
        )  # 11:00 BST ceremony in 1 h
        later = Wedding.objects.create(
            organization=world.org_a, wedding_date=NOW.date(), couple_name="Later", ceremony_time=dt.time(18, 0)
        )
        Incident.objects.create(organization=world.org_a, title="ordinary p0", priority="p0", detected_at=NOW)
        Incident.objects.create(
            organization=world.org_a,
            title="later wedding",
            priority="p0",
            wedding=later,
            wedding_impact="wedding_day_critical",
            detected_at=NOW,
        )
        Incident.objects.create(
            organization=world.org_a,
            title="sooner wedding",
            priority="p1",
            wedding=soon,
            wedding_impact="wedding_day_critical",
            detected_at=NOW,
        )
        Incident.objects.create(
            organization=world.org_a,
            title="resolved",
            priority="p0",
            status="resolved",
            wedding=soon,
            wedding_impact="wedding_day_critical",
            detected_at=NOW,
        )
    with staff_context():
        ranked = selectors.incidents_by_wedding_impact(now=NOW)
    assert [i.title for i in ranked] == ["later wedding", "ordinary p0", "sooner wedding"]
    assert ranked[2].minutes_to_ceremony == 60 and ranked[1].minutes_to_ceremony is None


def test_weddings_today_are_ordered_by_ceremony_across_time_zones_with_a_countdown(world):
    with service_context():
        # 11:00 in London is 20:00 in Sydney: Sydney's 19:00 ceremony started an hour ago.
        Wedding.objects.create(
            organization=world.org_a, wedding_date=NOW.date(), couple_name="London 14:00", ceremony_time=dt.time(14, 0)
        )
        Wedding.objects.create(
            organization=world.org_b, wedding_date=NOW.date(), couple_name="Sydney 19:00", ceremony_time=dt.time(19, 0)
        )
    with staff_context():
        rows = selectors.weddings_today(now=NOW)
    assert [r.wedding.couple_name for r in rows] == ["Sydney 19:00", "London 14:00"]
    assert [r.countdown for r in rows] == ["started 1 h 00 min ago", "in 3 h 00 min"]


def test_escalations_under_way_lists_open_escalated_incidents_only(world):
    with service_context():
        Incident.objects.create(
            organization=world.org_a,
            title="paging",
            escalation_step=2,
            escalation_level="manager",
            last_escalated_at=NOW,
        )
        Incident.objects.create(organization=world.org_a, title="quiet")
        Incident.objects.create(organization=world.org_a, title="done", status="resolved", escalation_step=1)
    with staff_context():
        assert [i.title for i in selectors.escalations_under_way()] == ["paging"]


def test_p95_trend_gives_worst_and_median_per_five_minutes_and_vendors_see_none(world):
    from wedsync_ops.tenancy.context import vendor_context

    start = NOW - dt.timedelta(minutes=10)
    with service_context():
        # Names are matched without case (is_latency_metric): "Checkout.Latency" counts, "queue.depth" not.
        for org, p95, name in (
            (world.org_a, 900.0, "http.request.duration_ms"),
            (world.org_b, 100.0, "Checkout.LATENCY"),
            (world.org_b, 5000.0, "queue.depth"),
        ):
            ApmMetricAggregation.objects.create(
                organization=org,
                service="payments",
                metric_name=name,
                bucket_seconds=300,
                bucket_start=start,
                count=10,
                sum=1,
                min=1,
                max=p95,
                avg=1,
                p50=1,
                p95=p95,
                p99=p95,
            )
    with staff_context():
        trend = selectors.p95_trend(now=NOW)
    # Every 5-minute bucket of the six hours is on the axis; the ones without data are gaps, not 0 ms.
    assert len(trend["times"]) == 72 and trend["times"][0] == NOW - dt.timedelta(hours=6)
    at = trend["times"].index(start)
    assert trend["worst"][at] == 900.0 and trend["median"][at] == 500.0
    assert trend["worst"][at - 1] is None and trend["worst"][at + 1] is None
    assert [v for v in trend["worst"] if v is not None] == [900.0]
    with vendor_context(world.org_b.id):
        worst = selectors.p95_trend(now=NOW)["worst"]
        assert [v for v in worst if v is not None] == [100.0]  # RLS: its own services only


def test_p95_trend_reads_the_latency_index_only(world):
    """p95_trend's query (apm.selectors.latency_p95_by_five_minutes) implies the predicate of
    idx_apm_aggregations_latency_5m (written alike in apm's migration 0025), so the 6 hours of
    5-minute latency p95s come from that partial index alone."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with staff_context(), CaptureQueriesContext(connection) as captured:
        selectors.p95_trend(now=NOW)
        (sql,) = [q["sql"] for q in captured.captured_queries if "apm_metric_aggregations" in q["sql"]]
        with connection.cursor() as cur:
            # A test database's table is tiny: without this the planner would rightly read it whole.
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("EXPLAIN (FORMAT JSON) " + sql)
            plan = cur.fetchone()[0][0]["Plan"]
            cur.execute("RESET enable_seqscan")

    def scans(node):
        yield node
        for child in node.get("Plans", []):
            yield from scans(child)

    used = [(n["Node Type"], n.get("Index Name")) for n in scans(plan) if "Scan" in n["Node Type"]]
    assert used == [("Index Only Scan", "idx_apm_aggregations_latency_5m")], used


def test_wedding_readiness_says_what_to_fix_and_turns_green_when_fixed(world, client):
    from incidents.models import EscalationContact
    from notifications.models import NotificationChannel

    with service_context():
        Incident.objects.create(organization=world.org_a, title="checkout down", priority="p0")
        Incident.objects.create(organization=world.org_b, title="bob's own p0", priority="p0")
    client.force_login(world.alice)
    html = client.get("/org/rosewood-florals/").content.decode()
    readiness = html[html.index('id="readiness"') : html.index('id="weddings"')]
    assert "1 open p0/p1 incident(s)" in readiness and "add a channel" in readiness
    assert "ask the operations team" in readiness

    with service_context():
        Incident.objects.filter(organization=world.org_a).update(status="resolved")
        NotificationChannel.objects.create(organization=world.org_a, kind="email", name="me", config={"to": ["a@b.c"]})
        EscalationContact.objects.create(name="Platform on-call", wedding_day_emergency=True)  # not hers
    html = client.get("/org/rosewood-florals/").content.decode()
    assert "ask the operations team" in html  # platform contacts are staff-only data
    assert "no channel has delivered yet" in html  # enabled is not enough: it must have worked
    with service_context():
        EscalationContact.objects.create(organization=world.org_a, name="Alice", wedding_day_emergency=True)
        from django.utils import timezone

        from notifications.models import DeliveryAttempt

        channel = NotificationChannel.objects.get(organization=world.org_a)
        DeliveryAttempt.objects.create(
            organization=world.org_a, channel=channel, test=True, ok=True, attempted_at=timezone.now(), duration_ms=12
        )
    html = client.get("/org/rosewood-florals/").content.decode()
    readiness = html[html.index('id="readiness"') : html.index('id="weddings"')]
    assert readiness.count("to do") == 0 and readiness.count("ready") == 4


def test_wall_screen_mode_drops_the_navigation(world, client):
    client.force_login(world.staff)
    html = client.get("/ops/saturday/?wall=1&refresh=10").content.decode()
    assert '<body class="wall">' in html and 'data-refresh-seconds="10"' in html
    assert '<body class="">' in client.get("/ops/saturday/").content.decode()


def test_service_health_lists_the_worst_first_and_error_rate_counts_per_minute(world, client):
    from apm.models import ErrorPattern, ErrorReport, ServiceHealthCheck

    with service_context():
        ServiceHealthCheck.objects.create(name="Stripe API", url="https://api.stripe.example/health", status="healthy")
        ServiceHealthCheck.objects.create(
            organization=world.org_a,
            name="Rosewood shop",
            url="https://shop.example/",
            status="critical",
            consecutive_failures=4,
            last_error="timeout after 5 s",
        )
        pattern = ErrorPattern.objects.create(
            organization=world.org_a,
            fingerprint="f" * 16,
            error_type="KeyError",
            normalized_message="x",
            top_frame="",
            service="shop",
            first_seen=NOW,
            last_seen=NOW,
        )
        for minute in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10):
            ErrorReport.objects.create(
                organization=world.org_a,
                pattern=pattern,
                service="shop",
                error_type="KeyError",
                message="x",
                occurred_at=NOW - dt.timedelta(minutes=minute),
            )
    with staff_context():
        assert [c.name for c in selectors.service_health()] == ["Rosewood shop", "Stripe API"]
        trend = selectors.error_rate_trend(now=NOW)
    assert sum(v * 5 for v in trend["per_minute"]) == 10  # every report counted once
    client.force_login(world.staff)
    html = client.get("/ops/saturday/").content.decode()
    assert "timeout after 5 s" in html and 'id="error-rate-chart"' in html


def _run(job, task, at, *, seconds=2):
    from heartbeats.jobs import job_run_finish, job_run_start

    run = job_run_start(job=job, task=task, task_id=f"{job}-{at:%H%M%S}", now=at)
    job_run_finish(run_id=run, now=at + dt.timedelta(seconds=seconds), outcome="success", duration_ms=seconds * 1000)


def test_data_as_of_is_the_age_of_the_newest_aggregation_and_evaluation_not_the_render_time(world, client):
    import time_machine

    from heartbeats.jobs import beat_jobs

    with service_context():
        for name, job in beat_jobs().items():  # every other job ran just now: nothing is behind
            if name not in ("apm-aggregate", "alerts-evaluate-rules"):
                _run(name, job.task, NOW - dt.timedelta(seconds=5))
        _run("apm-aggregate", "apm.tasks.aggregate", NOW - dt.timedelta(seconds=40))
        _run("alerts-evaluate-rules", "alerts.tasks.evaluate_rules", NOW - dt.timedelta(seconds=20))
    with staff_context():
        fresh = triage.data_freshness(now=NOW)
    assert fresh.aggregated_at == NOW - dt.timedelta(seconds=38)
    assert fresh.evaluated_at == NOW - dt.timedelta(seconds=18)
    assert fresh.data_as_of == fresh.aggregated_at  # the older of the two
    client.force_login(world.staff)
    with time_machine.travel(NOW, tick=False):
        html = client.get("/ops/saturday/").content.decode()
    assert "data as of <strong>10:59 BST (09:59 UTC)</strong>" in html
    assert 'id="stale-banner"' not in html

    # Ten minutes later nothing has run: aggregation (every 60 s) is more than twice its period behind.
    later = NOW + dt.timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        html = client.get("/ops/saturday/").content.decode()
    banner = html[html.index('id="stale-banner"') : html.index('id="triage"')]
    assert "Data is behind" in banner and "apm-aggregate last ran 10 min ago (every 60 s)" in banner
    assert "alerts-evaluate-rules last ran" in banner
    assert "data as of <strong>10:59 BST (09:59 UTC)</strong>" in html  # still the data's time, not the page's


def test_triage_comes_first_with_actions_and_the_healthy_collapse_to_a_count(world, client):
    import time_machine

    from alerts.services import alert_fire
    from apm.models import ServiceHealthCheck

    with service_context():
        wedding = Wedding.objects.create(
            organization=world.org_a, wedding_date=NOW.date(), couple_name="Ana & Zara", ceremony_time=dt.time(14, 0)
        )
        incident = Incident.objects.create(
            organization=world.org_a,
            title="Checkout down",
            priority="p0",
            wedding=wedding,
            wedding_impact="wedding_day_critical",
            detected_at=NOW,
        )
        alert, _ = alert_fire(
            organization_id=world.org_b.id,
            fingerprint="f1" * 8,
            source="alertmanager",
            title="Gallery slow",
            labels={"alertname": "GallerySlow"},
            annotations={},
            severity="warning",
            priority="medium",
            starts_at=NOW,
            now=NOW,
        )
        for i in range(3):
            ServiceHealthCheck.objects.create(name=f"ok {i}", url=f"https://ok{i}.example/", status="healthy")
        ServiceHealthCheck.objects.create(name="broken", url="https://broken.example/", status="critical")
    client.force_login(world.staff)
    with time_machine.travel(NOW, tick=False):
        html = client.get("/ops/saturday/").content.decode()
    triage = html[html.index('id="triage"') : html.index('aria-label="Summary"')]
    # Open incidents, then firing alerts, then weddings at risk, then the healthy as a count: before anything else.
    assert triage.index("Checkout down") < triage.index("Gallery slow") < triage.index("Weddings at risk")
    assert f'href="/ops/incidents/{incident.pk}/"' in triage and f'href="/ops/alerts/{alert.pk}/"' in triage
    assert f'href="/ops/silences/new/?alert={alert.pk}"' in triage
    assert f'href="/ops/silences/new/?incident={incident.pk}"' in triage
    assert triage.count('value="acknowledge"') == 2
    assert "Ana &amp; Zara" in triage[triage.index("Weddings at risk") :]
    assert "3 services ok" in triage and "1 critical" in triage
    # the incident linked to an alert has a "→ incident" link
    with service_context():
        alert.incident = incident
        alert.save(update_fields=["incident"])
    with time_machine.travel(NOW, tick=False):
        html = client.get("/ops/saturday/").content.decode()
    assert f'<a class="small" href="/ops/incidents/{incident.pk}/">→ incident p0</a>' in html
    # acknowledging from the dashboard comes back to it
    response = client.post(f"/ops/incidents/{incident.pk}/", {"action": "acknowledge", "next": "/ops/saturday/"})
    assert response.status_code == 302 and response["Location"] == "/ops/saturday/"
