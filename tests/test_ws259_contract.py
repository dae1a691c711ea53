"""WS-259's SQL contract (issue 18 §1) on a migrated database, as the application role.

The specification's queries below are written in its own column names (error_type, error_message,
severity, created_at, is_wedding_day; performance_metrics' service_name, metric_type, metric_value,
"timestamp") and adapted only where a literal cannot be valid: its load test inserts 10,000 error
reports for random organization ids, here for a real one.
"""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from alerts.models import AlertHistory
from alerts.services import alert_fire
from apm.models import ErrorPattern, ErrorReport
from apm.services import MetricRow, errors_ingest, metrics_copy
from incidents import conf as incidents_conf
from incidents.escalation import escalations_run
from incidents.escalation_report import escalations_due
from incidents.models import EscalationPolicy, EscalationStep, Incident, IncidentUpdate
from incidents.services import incident_acknowledge, incident_create, incident_open_from_error_pattern
from tests.conftest import SATURDAY, WEDNESDAY
from wedsync_ops.choices import PG_ENUMS
from wedsync_ops.tenancy.context import service_context, vendor_context
from wedsync_ops.tenancy.models import Wedding

MIN = dt.timedelta(minutes=1)


def _rows(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


def _one(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchone()[0]


# --- types on their columns --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "column", "type_name"),
    [
        ("error_reports", "severity", "error_severity_type"),
        ("performance_metrics", "metric_type", "performance_metric_type"),
        ("incidents", "incident_severity", "incident_severity_type"),
        ("alert_configurations", "alert_type", "alert_type_enum"),
    ],
)
def test_each_ws259_type_is_the_type_of_the_column_it_describes(db, table, column, type_name):
    assert type_name in PG_ENUMS
    assert (
        _one(
            "SELECT udt_name FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
            [table, column],
        )
        == type_name
    )


def test_the_spec_indexes_exist_as_specified(db):
    defs = {r["indexname"]: r["indexdef"] for r in _rows("SELECT indexname, indexdef FROM pg_indexes")}
    assert "(is_wedding_day, created_at DESC) WHERE is_wedding_day" in defs["idx_error_reports_wedding_day"]
    assert "(organization_id, created_at DESC)" in defs["idx_error_reports_organization_created"]
    assert "(is_saturday_incident, detected_at DESC) WHERE is_saturday_incident" in defs["idx_incidents_saturday"]
    assert "USING brin (recorded_at)" in defs["idx_apm_metrics_recorded_brin"]


# --- error_reports' spec columns ---------------------------------------------------------------


def test_ingest_fills_the_spec_columns_from_level_time_and_wedding_day(world):
    now = WEDNESDAY
    with service_context():
        Wedding.objects.create(organization=world.org_a, wedding_date=now.date(), couple_name="Ana & Ben")
        payload = [
            {
                "service": "rsvp",
                "type": "RsvpError",
                "message": "form 12 broke",
                "level": level,
                "timestamp": (now - dt.timedelta(days=days)).isoformat(),
            }
            for level, days in (("info", 0), ("warning", 0), ("error", 1), ("critical", 1), ("critical", 0))
        ]
        errors_ingest(organization_id=world.org_a.id, now=now, payload=payload)
        got = sorted(
            (r.level, r.occurred_at.date() == now.date(), r.severity, r.is_wedding_day)
            for r in ErrorReport.objects.all()
        )
        report = ErrorReport.objects.first()
    assert got == [
        ("critical", False, "critical", False),
        ("critical", True, "wedding_emergency", True),
        ("error", False, "high", False),
        ("info", True, "low", True),
        ("warning", True, "medium", True),
    ]
    assert report.error_message == report.message and report.created_at == report.received_at == now


def test_the_specs_load_test_inserts_10000_reports_for_a_real_organization(world):
    with service_context():
        with connection.cursor() as cur:
            # The specification's load test; its random organization ids would break the foreign key.
            cur.execute(
                """
                INSERT INTO error_reports (error_type, error_message, severity, organization_id, created_at)
                SELECT 'LoadTestError', 'Load test error ' || i,
                       (ARRAY['low', 'medium', 'high', 'critical'])[1 + i %% 4]::error_severity_type,
                       %s, NOW() - (random() * INTERVAL '24 hours')
                FROM generate_series(1, 10000) AS i
                """,
                [world.org_a.id],
            )
            assert cur.rowcount == 10000
        by_severity = {
            r["severity"]: (r["level"], r["n"])
            for r in _rows("SELECT severity::text, level, count(*) AS n FROM error_reports GROUP BY 1, 2")
        }
        pattern = ErrorPattern.objects.get()
    assert by_severity == {
        "low": ("info", 2500),
        "medium": ("warning", 2500),
        "high": ("error", 2500),
        "critical": ("critical", 2500),
    }
    assert (pattern.occurrence_count, pattern.level, pattern.normalized_message) == (
        10000,
        "critical",
        "Load test error <num>",
    )
    with vendor_context(world.org_b.id):  # an outsider sees none of them
        assert _one("SELECT count(*) FROM error_reports") == 0


@pytest.fixture
def spec_data(world):
    """Errors (some on a wedding day) and latency points of org A at the database's now()."""
    now = timezone.now()
    with service_context():
        # The errors span the last 30 minutes, which may cross the organization's local midnight: every local
        # date they fall on holds a wedding, so all six are wedding-day errors whenever the suite runs.
        with connection.cursor() as cur:
            cur.execute(
                "SELECT DISTINCT org_local_date(%s, t) FROM unnest(%s::timestamptz[]) AS t",
                [world.org_a.id, [now, now - dt.timedelta(minutes=30)]],
            )
            local_dates = sorted(row[0] for row in cur.fetchall())
        for i, local in enumerate(local_dates):
            Wedding.objects.create(organization=world.org_a, wedding_date=local, couple_name=f"Cara & Dev {i}")
        errors_ingest(
            organization_id=world.org_a.id,
            now=now,
            payload=[
                {
                    "service": "payments",
                    "type": "CardError",
                    "message": f"card {i} declined",
                    "level": "error",
                    "timestamp": (now - dt.timedelta(minutes=5 * i)).isoformat(),
                }
                for i in range(1, 7)
            ],
        )
        metrics_copy(
            rows=[
                MetricRow(
                    world.org_a.id,
                    "checkout-api",
                    "http.server.duration",
                    float(ms),
                    now - dt.timedelta(minutes=m),
                    "ms",
                    {"route": "/api/checkout", "status": "2xx"},
                )
                for m in (1, 2, 3)
                for ms in (100, 200, 300, 1000)
            ]
        )
    world.now = now
    return world


def test_the_specs_error_trending_and_saturday_queries_run(spec_data):
    w = spec_data
    with vendor_context(w.org_a.id):
        trending = _rows(
            """
            SELECT DATE_TRUNC('hour', created_at) AS hour, error_type, severity,
                   COUNT(*) AS error_count, COUNT(*) FILTER (WHERE is_wedding_day = true) AS wedding_day_errors
            FROM error_reports
            WHERE created_at > NOW() - INTERVAL '24 hours'
            GROUP BY DATE_TRUNC('hour', created_at), error_type, severity
            ORDER BY hour DESC
            """
        )
        wedding_day = _rows(
            """
            SELECT error_type, error_message, severity, created_at FROM error_reports
            WHERE is_wedding_day = true AND created_at > NOW() - INTERVAL '1 hour'
            ORDER BY created_at DESC
            """
        )
        (view_row,) = _rows("SELECT * FROM error_trending_analysis")
        (sat,) = _rows("SELECT * FROM saturday_monitoring")
        (health,) = _rows("SELECT * FROM system_health_overview")
    assert sum(r["error_count"] for r in trending) == 6 and {r["severity"] for r in trending} == {"high"}
    assert sum(r["wedding_day_errors"] for r in trending) == 6
    # created_at is the report's creation (one transaction here: equal), so the spec's ORDER BY leaves ties.
    assert sorted(r["error_message"] for r in wedding_day) == [f"card {i} declined" for i in range(1, 7)]
    assert (view_row["severity"], view_row["wedding_day_reports_last_24h"]) == ("high", 6)
    assert (sat["errors_24h"], sat["wedding_day_errors_24h"], sat["weddings_today"]) == (6, 6, 1)
    assert sat["wedding_day_protocol"] is True and health["errors_24h"] == 6
    with vendor_context(w.org_b.id):
        assert [r["organization_slug"] for r in _rows("SELECT * FROM saturday_monitoring")] == ["bloom-and-vine"]
        assert _rows("SELECT * FROM error_trending_analysis") == []


def test_the_specs_percentile_queries_run_over_performance_metrics(spec_data):
    w = spec_data
    with vendor_context(w.org_a.id):
        (row,) = _rows(
            """
            SELECT service_name, metric_type,
                   PERCENTILE_CONT(0.50) WITHIN GROUP (ORDER BY metric_value) AS p50,
                   PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY metric_value) AS p95,
                   PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY metric_value) AS p99,
                   COUNT(*) AS sample_count
            FROM performance_metrics
            WHERE timestamp > NOW() - INTERVAL '1 hour' AND metric_type = 'response_time'
            GROUP BY service_name, metric_type
            """
        )
        (view,) = _rows("SELECT * FROM performance_percentile_analysis")
        (point,) = _rows("SELECT endpoint, status_code, is_wedding_day FROM performance_metrics LIMIT 1")
    assert (row["service_name"], row["metric_type"], row["sample_count"]) == ("checkout-api", "response_time", 12)
    assert row["p50"] == pytest.approx(250.0) and row["p99"] <= 1000.0
    assert (view["service_name"], view["metric_type"], view["points"]) == ("checkout-api", "response_time", 12)
    assert view["p50"] == pytest.approx(250.0) and view["max"] == 1000.0 and view["avg"] == pytest.approx(400.0)
    assert view["worst_hourly_p50"] >= 150.0 and view["wedding_day_points"] == 12
    assert point == {"endpoint": "/api/checkout", "status_code": 200, "is_wedding_day": True}
    with vendor_context(w.org_b.id):
        assert _rows("SELECT * FROM performance_metrics") == []
        assert _rows("SELECT * FROM performance_percentile_analysis") == []
    assert _rows("SELECT * FROM performance_metrics") == []  # no context, no rows


@pytest.mark.parametrize(
    ("name", "unit", "expected"),
    [
        ("web_vitals.LCP", "ms", "core_web_vitals"),
        ("db.query.duration", "ms", "database_query_time"),
        ("process.cpu.utilization", "", "cpu_usage"),
        ("process.memory.rss", "bytes", "memory_usage"),
        ("http.errors", "", "error_rate"),
        ("http.server.duration", "ms", "response_time"),
        ("http.requests", "", "throughput"),
        ("queue.depth", "", None),
    ],
)
def test_metric_types_come_from_the_metric_name(db, name, unit, expected):
    assert _one("SELECT performance_metric_type_of(%s, %s)::text", [name, unit]) == expected


# --- incidents --------------------------------------------------------------------------------


def test_saturday_is_the_organizations_local_saturday_and_auto_created_is_not_by_hand(world):
    friday_night_utc = dt.datetime(2026, 6, 12, 20, 0, tzinfo=dt.UTC)  # Saturday 06:00 in Sydney, Friday in London
    with service_context():
        london = incident_create(organization=world.org_a, title="a", by=world.staff, now=friday_night_utc)
        sydney = incident_create(organization=world.org_b, title="b", by=world.staff, now=friday_night_utc)
        auto, _ = incident_open_from_error_pattern(
            organization_id=world.org_b.id,
            service="rsvp",
            signature="E#1",
            message="boom",
            occurrences=3,
            now=friday_night_utc,
        )
        rows = {i.pk: i for i in Incident.objects.all()}
        saturday_ids = {
            r["id"] for r in _rows("SELECT id FROM incidents WHERE is_saturday_incident ORDER BY detected_at DESC")
        }
        Incident.objects.filter(pk=london.pk).update(detected_at=SATURDAY)  # moving detection re-decides
        moved = Incident.objects.get(pk=london.pk).is_saturday_incident
    assert (rows[london.pk].is_saturday_incident, rows[sydney.pk].is_saturday_incident) == (False, True)
    assert saturday_ids == {sydney.pk, auto.pk} and moved is True
    assert (rows[london.pk].auto_created, rows[auto.pk].auto_created) == (False, True)
    assert rows[auto.pk].incident_severity == "wedding_day_emergency"  # p0: a Saturday in Sydney
    assert rows[london.pk].incident_severity == "medium"  # p2
    with vendor_context(world.org_a.id):  # org B's Saturday incidents are not org A's to see
        assert [r["id"] for r in _rows("SELECT id FROM incidents WHERE is_saturday_incident")] == [london.pk]


def _critical_report(world, org, now, message="payment 7 failed"):
    errors_ingest(
        organization_id=org.id,
        now=now,
        payload=[
            {
                "service": "payments",
                "type": "PaymentError",
                "message": message,
                "level": "critical",
                "timestamp": now.isoformat(),
            }
        ],
    )
    return ErrorReport.objects.filter(organization_id=org.id).order_by("-id").first()


def test_create_incident_from_critical_error_opens_or_joins_as_the_error_pattern_service_does(world):
    now = WEDNESDAY  # not a wedding day: ingest opens nothing by itself
    with service_context():
        report = _critical_report(world, world.org_a, now)
        pattern = ErrorPattern.objects.get(pk=report.pattern_id)
        incident_id = _one("SELECT create_incident_from_critical_error(%s, %s)", [report.public_id, now])
        incident = Incident.objects.get(pk=incident_id)
        again = _one("SELECT create_incident_from_critical_error(%s, %s)", [pattern.public_id, now + MIN])
        # The Python service finds the same incident: one definition of "the pattern's incident".
        same, created = incident_open_from_error_pattern(
            organization_id=world.org_a.id,
            service="payments",
            signature=f"PaymentError#{pattern.fingerprint[:12]}",
            message="payment 7 failed",
            occurrences=1,
            now=now + 2 * MIN,
        )
        kinds = list(
            IncidentUpdate.objects.filter(incident=incident).order_by("created_at").values_list("kind", flat=True)
        )
        pattern.refresh_from_db()
    assert again == incident_id and same.pk == incident_id and created is False
    assert (incident.priority, incident.severity, incident.source, incident.auto_created) == (
        "p1",
        "critical",
        "error_pattern",
        True,
    )
    assert incident.title == "Critical error pattern in payments: payment 7 failed"
    assert incident.escalation_clock_at == now and pattern.incident_id == incident_id
    assert kinds == ["created", "alert", "alert"]


def test_create_incident_from_critical_error_on_a_wedding_day_is_a_p0_linked_to_the_wedding(world):
    with service_context():
        wedding = Wedding.objects.create(organization=world.org_a, wedding_date=WEDNESDAY.date(), couple_name="E & F")
        report = _critical_report(world, world.org_a, WEDNESDAY - dt.timedelta(days=1))
        incident = Incident.objects.get(
            pk=_one("SELECT create_incident_from_critical_error(%s, %s)", [report.public_id, WEDNESDAY])
        )
    assert (incident.priority, incident.wedding_impact, incident.wedding_id) == (
        "p0",
        "wedding_day_critical",
        wedding.pk,
    )
    assert incident.title.startswith("WEDDING DAY: ") and incident.incident_severity == "wedding_day_emergency"


def test_create_incident_from_critical_error_returns_null_for_the_rest(world):
    with service_context():
        errors_ingest(
            organization_id=world.org_a.id,
            now=WEDNESDAY,
            payload=[
                {
                    "service": "s",
                    "type": "Minor",
                    "message": "meh",
                    "level": "warning",
                    "timestamp": WEDNESDAY.isoformat(),
                }
            ],
        )
        minor = ErrorReport.objects.get()
        critical = _critical_report(world, world.org_a, WEDNESDAY, message="other")
        ignored = ErrorPattern.objects.get(pk=critical.pattern_id)
        ignored.status = "ignored"
        ignored.save()
        assert _one("SELECT create_incident_from_critical_error(%s)", [minor.public_id]) is None
        assert _one("SELECT create_incident_from_critical_error(%s)", [critical.public_id]) is None
        assert _one("SELECT create_incident_from_critical_error(gen_random_uuid())") is None
        ignored.status = "unresolved"
        ignored.save()
    with vendor_context(world.org_b.id):  # an outsider cannot open (or learn of) org A's incident
        assert _one("SELECT create_incident_from_critical_error(%s)", [critical.public_id]) is None
    with service_context():
        assert Incident.objects.count() == 0


# --- escalate_unacknowledged_alerts agrees with the beat ---------------------------------------


def _policy(org, *steps, wedding_day=False, repeat=1):
    policy = EscalationPolicy.objects.create(
        organization=org,
        name=f"{org.slug if org else 'platform'} {'wd' if wedding_day else 'ordinary'}",
        wedding_day=wedding_day,
        repeat_count=repeat,
    )
    for i, (wait, level) in enumerate(steps):
        EscalationStep.objects.create(organization=org, policy=policy, position=i + 1, wait_minutes=wait, level=level)
    return policy


def _taken(before: dict) -> dict:
    after = {i.pk: i.escalation_step for i in Incident.objects.all()}
    return {pk: step for pk, step in after.items() if step > before.get(pk, 0)}


def test_escalate_unacknowledged_alerts_names_exactly_what_the_next_beat_pass_takes(world):
    t0 = WEDNESDAY
    with service_context():
        _policy(world.org_a, (5, "team_lead"), (10, "manager"), repeat=2)
        _policy(None, (3, "team_lead"), wedding_day=True)  # the platform's wedding-day variant
        Wedding.objects.create(organization=world.org_b, wedding_date=dt.date(2026, 6, 10), couple_name="G & H")
        incident_create(organization=world.org_a, title="a1", by=None, now=t0, priority="p1")
        a2 = incident_create(organization=world.org_a, title="a2 acked", by=None, now=t0, priority="p1")
        incident_acknowledge(incident=a2, by=world.staff, now=t0 + MIN)
        incident_create(organization=world.org_b, title="b1 wedding day", by=None, now=t0, priority="p1")
        incident_create(organization=None, title="platform", by=None, now=t0, priority="p2")
        muted = incident_create(organization=world.org_a, title="muted", by=None, now=t0)
        Incident.objects.filter(pk=muted.pk).update(muted_at=t0)
        alert_fire(
            organization_id=world.org_a.id,
            fingerprint="crit-1",
            source="rule",
            title="DB down",
            labels={},
            annotations={},
            severity="critical",
            priority="high",
            starts_at=t0,
            now=t0,
        )
        alert_fire(
            organization_id=world.org_a.id,
            fingerprint="warn-1",
            source="rule",
            title="slow",
            labels={},
            annotations={},
            severity="warning",
            priority="low",
            starts_at=t0,
            now=t0,
        )
        seen = []
        for minutes in (2, 3, 4, 5, 6, 15, 16, 31, 60, 200):
            at = t0 + minutes * MIN
            due = escalations_due(now=at)
            before = {i.pk: i.escalation_step for i in Incident.objects.all()}
            firing_before = set(AlertHistory.objects.filter(status="firing").values_list("pk", flat=True))
            escalations_run(now=at)
            taken = _taken(before)
            escalated = firing_before - set(AlertHistory.objects.filter(status="firing").values_list("pk", flat=True))
            assert {d["id"]: d["step"] for d in due if d["kind"] == "incident"} == {
                pk: step for pk, step in taken.items()
            }, minutes
            assert {d["id"] for d in due if d["kind"] == "alert"} == escalated, minutes
            seen.append((minutes, sorted((d["title"], d["step"], str(d["level"])) for d in due)))
    # The plan each one follows, as the beat took it. "DB down" is the critical alert and its incident;
    # a1 runs org A's two steps twice (the third step, due at 20 min, is taken late at 31: the clock
    # moves to when it was due, so the fourth is due at 30 and taken by the next pass).
    assert seen == [
        (2, []),
        (3, [("b1 wedding day", 1, "team_lead")]),  # the platform's wedding-day variant: 3 min
        (4, []),
        (
            5,
            [
                ("DB down", 1, "team_lead"),
                ("DB down", 1, "team_lead"),
                ("a1", 1, "team_lead"),
                ("platform", 1, "team_lead"),
            ],
        ),  # platform-wide: the built-in 5 min default
        (6, []),
        (15, [("DB down", 2, "manager"), ("a1", 2, "manager")]),
        (16, []),
        (31, [("DB down", 3, "team_lead"), ("a1", 3, "team_lead")]),
        (60, [("DB down", 4, "manager"), ("a1", 4, "manager")]),
        (200, []),  # all used up; acknowledged and muted incidents never came up
    ]
    assert incidents_conf.ESCALATION_DEFAULT_WAIT_MINUTES == 5  # the SQL defaults are conf's defaults
    assert _one("SELECT pg_get_function_arguments('escalate_unacknowledged_alerts'::regproc)").count("DEFAULT") == 4
    with vendor_context(world.org_b.id):
        assert all(d["organization_id"] == world.org_b.id for d in escalations_due(now=t0 + 300 * MIN))


def test_escalate_unacknowledged_alerts_says_which_step_and_why(world):
    with service_context():
        _policy(world.org_a, (5, "team_lead"), (10, "manager"))
        incident = incident_create(
            organization=world.org_a, title="checkout down", by=None, now=WEDNESDAY, priority="p1"
        )
        (row,) = escalations_due(now=WEDNESDAY + 7 * MIN)
        # Read-only: STABLE (PostgreSQL refuses writes inside it), and the incident is as it was.
        assert _one("SELECT provolatile FROM pg_proc WHERE proname = 'escalate_unacknowledged_alerts'") == "s"
        assert Incident.objects.get(pk=incident.pk).escalation_step == 0
    assert (row["kind"], row["id"], row["step"], row["of_steps"], str(row["level"])) == (
        "incident",
        incident.pk,
        1,
        2,
        "team_lead",
    )
    assert row["due_at"] == WEDNESDAY + 5 * MIN and float(row["overdue_minutes"]) == 2.0
    assert row["reason"].startswith("unacknowledged: step 1 of 2 (team_lead after 5 min) of policy 'rosewood-florals")
    with pytest.raises(ValueError):
        escalations_due(now=dt.datetime(2026, 1, 1))
