"""error_correlations (issue 18 §3): patterns of different services linked by a shared trace id or by
starting together, with a score and the likely origin; shown on the incident page; RLS as the app role."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection

from apm import tasks
from apm.beat import BEAT_SCHEDULE
from apm.correlation import error_correlations_run, incident_correlated_errors
from apm.models import ErrorCorrelation, ErrorPattern
from apm.services import errors_ingest
from incidents.services import incident_create
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context, vendor_context

S = dt.timedelta(seconds=1)


def _report(service, type_, message, at, **tags):
    return {
        "service": service,
        "type": type_,
        "message": message,
        "level": "error",
        "timestamp": at.isoformat(),
        "tags": tags,
    }


def _ingest(org, reports):
    errors_ingest(
        organization_id=org.id, now=max(dt.datetime.fromisoformat(r["timestamp"]) for r in reports), payload=reports
    )


def _db_now():
    with connection.cursor() as cur:
        cur.execute("SELECT now()")
        return cur.fetchone()[0]


@pytest.fixture
def cascade(world):
    """org A: the payments database fails first, then checkout and the RSVP page in the same requests; an
    unrelated gallery error 9 minutes later; org B: an error of its own at the same moment."""
    now = _db_now()  # reports are stored at the database's now(): correlate around it
    t = now - dt.timedelta(minutes=5)
    with service_context():
        _ingest(
            world.org_a,
            [
                _report("payments-db", "DeadlockDetected", "deadlock on bookings", t + i * S, trace_id=f"tr-{i}")
                for i in range(4)
            ],
        )
        _ingest(
            world.org_a,
            [
                _report("checkout-api", "UpstreamTimeout", "payments timed out", t + (i + 2) * S, trace_id=f"tr-{i}")
                for i in range(4)
            ],
        )
        _ingest(world.org_a, [_report("rsvp-web", "FetchFailed", "checkout 502", t + 30 * S, request_id="other")])
        _ingest(world.org_a, [_report("gallery", "ImageMissing", "thumb 9 missing", t + 9 * 60 * S)])
        _ingest(world.org_b, [_report("florist-site", "Boom", "b's own", t + S, trace_id="tr-0")])
        world.written = error_correlations_run(now=now + S)
        world.p = {p.service: p for p in ErrorPattern.objects.all()}
    world.t = t
    return world


def test_a_shared_trace_links_two_services_and_the_first_to_fail_is_the_origin(cascade):
    p = cascade.p
    with service_context():
        pair = (
            ErrorCorrelation.objects.get(pattern__in=[p["payments-db"]], related_pattern__in=[p["checkout-api"]])
            if p["payments-db"].pk < p["checkout-api"].pk
            else ErrorCorrelation.objects.get(pattern=p["checkout-api"], related_pattern=p["payments-db"])
        )
    assert (pair.rule, pair.shared_traces, pair.score) == ("shared_trace", 4, 1.0)
    assert pair.origin_pattern_id == p["payments-db"].pk and pair.gap_seconds == pytest.approx(2.0)


def test_starting_within_the_window_links_weaker_and_far_apart_or_other_organizations_do_not(cascade):
    p = cascade.p
    with service_context():
        rows = {frozenset((r.pattern_id, r.related_pattern_id)): r for r in ErrorCorrelation.objects.all()}
    rsvp = rows[frozenset((p["rsvp-web"].pk, p["payments-db"].pk))]
    assert rsvp.rule == "time_window" and rsvp.origin_pattern_id == p["payments-db"].pk
    assert rsvp.score == pytest.approx(0.5 * (1 - 30 / 120), abs=1e-3)
    assert all(p["gallery"].pk not in k for k in rows)  # 9 minutes later: not the same problem
    assert all(p["florist-site"].pk not in k for k in rows)  # another organization's trace tr-0
    assert cascade.written == len(rows) == 3


def test_a_pair_keeps_its_strongest_evidence_and_a_rerun_writes_nothing_weaker(cascade):
    with service_context():
        before = {r.pk: (r.rule, r.score) for r in ErrorCorrelation.objects.all()}
        assert error_correlations_run(now=_db_now() + S) == 0
        after = {r.pk: (r.rule, r.score) for r in ErrorCorrelation.objects.all()}
    assert before == after


def test_the_incident_page_shows_the_correlated_errors_and_the_first_cause(cascade, client):
    with service_context():
        checkout = cascade.p["checkout-api"]
        incident = incident_create(
            organization=cascade.org_a, title="Checkout failing", by=None, now=cascade.t + 3 * S, priority="p1"
        )
        ErrorPattern.objects.filter(pk=checkout.pk).update(incident=incident)
        found = incident_correlated_errors(incident)
    assert found["first_cause"].service == "payments-db"
    # payments-db by the shared traces (1.0), rsvp-web by starting 28 s after checkout (0.38)
    assert [(c["origin"].service, c["pattern"].service) for c in found["correlations"]] == [
        ("payments-db", "checkout-api"),
        ("checkout-api", "rsvp-web"),
    ]
    client.force_login(cascade.staff)
    html = client.get(f"/ops/incidents/{incident.pk}/").content.decode()
    assert "Correlated errors" in html and "First cause (likely origin):</strong> payments-db" in html
    assert "4 shared trace/request ids" in html


def test_an_incident_without_linked_errors_uses_the_patterns_that_started_around_it(cascade):
    with service_context():
        incident = incident_create(
            organization=cascade.org_a, title="RSVP broken", by=None, now=cascade.t + 40 * S, priority="p1"
        )
        found = incident_correlated_errors(incident)
    assert {p.service for p in found["patterns"]} == {"payments-db", "checkout-api", "rsvp-web"}
    assert found["first_cause"].service == "payments-db"


def test_an_outsider_sees_no_correlation_and_only_platform_contexts_correlate(cascade):
    with vendor_context(cascade.org_b.id):
        assert ErrorCorrelation.objects.count() == 0
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM error_correlations")
            assert cur.fetchone()[0] == 0
    with vendor_context(cascade.org_a.id):
        assert ErrorCorrelation.objects.count() == 3
    assert ErrorCorrelation.objects.count() == 0  # no context
    with pytest.raises(DatabaseError, match="staff or service"), vendor_context(cascade.org_a.id):
        error_correlations_run(now=WEDNESDAY)


def test_correlation_runs_every_minute(cascade):
    entry = next(e for e in BEAT_SCHEDULE.values() if e["task"] == "apm.tasks.correlate_errors")
    assert entry["schedule"] == 60.0 and tasks.correlate_errors() == 0
