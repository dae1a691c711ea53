"""``alerts.services.alerts_sync``: an internal source's open alerts become exactly what it reports."""

import datetime as dt

from alerts.models import AlertHistory
from alerts.services import FireCandidate, alerts_sync
from tests.conftest import WEDNESDAY
from tests.factories import fire_alert, make_organization
from wedsync_ops.tenancy.context import service_context


def candidate(org, fingerprint, *, now=WEDNESDAY):
    return FireCandidate(
        organization_id=org.id if org else None,
        fingerprint=fingerprint,
        source="dbmonitor",
        title=f"problem {fingerprint}",
        labels={"alertname": fingerprint},
        annotations={},
        severity="warning",
        priority="medium",
        starts_at=now,
    )


def open_fingerprints(source):
    with service_context():
        return sorted(
            AlertHistory.objects.filter(source=source, status__in=AlertHistory.OPEN_STATUSES).values_list(
                "fingerprint", flat=True
            )
        )


def test_fires_new_problems_touches_ongoing_ones_and_resolves_the_cleared_within_its_scope(db):
    org = make_organization("rosewood")
    with service_context():
        fired, resolved = alerts_sync(
            source="dbmonitor", organization_id=None, now=WEDNESDAY, firing=[candidate(None, "a"), candidate(None, "b")]
        )
    assert [(c.fingerprint, c.created) for c in fired] == [("a", True), ("b", True)] and resolved == []
    other = fire_alert(org, {"alertname": "Other"}, now=WEDNESDAY, source="dbmonitor")  # another organization's
    later = WEDNESDAY + dt.timedelta(minutes=5)
    with service_context():
        fired, resolved = alerts_sync(
            source="dbmonitor",
            organization_id=None,
            now=later,
            firing=[candidate(None, "b", now=later), candidate(None, "c", now=later)],
        )
    assert [(c.fingerprint, c.created) for c in fired] == [("b", False), ("c", True)]
    assert [a.fingerprint for a in resolved] == ["a"] and resolved[0].ends_at == later
    assert open_fingerprints("dbmonitor") == sorted(["b", "c", other.fingerprint])


def test_fingerprints_limit_what_it_may_resolve_and_an_empty_report_resolves_them(db):
    with service_context():
        alerts_sync(
            source="dbmonitor",
            organization_id=None,
            now=WEDNESDAY,
            firing=[candidate(None, "mine"), candidate(None, "theirs")],
        )
        _fired, resolved = alerts_sync(
            source="dbmonitor", organization_id=None, now=WEDNESDAY, firing=[], fingerprints=["mine"]
        )
    assert [a.fingerprint for a in resolved] == ["mine"]
    assert open_fingerprints("dbmonitor") == ["theirs"]
