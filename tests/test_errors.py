"""Error reports: POST /api/v1/errors/, fingerprints, patterns, regressions, suppression, wedding-day p0 incidents."""

import datetime as dt
import json

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from apm.errors import fingerprint, normalize_message, top_frame
from apm.models import ErrorPattern, ErrorReport, ErrorSuppressionRule
from apm.services import api_key_create, error_pattern_set_status, error_suppression_rule_create, errors_ingest
from incidents.models import Incident
from tests.conftest import SATURDAY, WEDNESDAY
from wedsync_ops.tenancy.context import service_context, vendor_context
from wedsync_ops.tenancy.models import Wedding

URL = "/api/v1/errors/"
PY_TRACE = (
    "Traceback (most recent call last):\n"
    '  File "/app/views.py", line 10, in checkout\n    charge(order)\n'
    '  File "/app/payments.py", line 42, in charge\n    raise PaymentError(msg)\n'
    "PaymentError: Payment 4411 failed\n"
)


def _report(**overrides):
    report = {
        "service": "payments",
        "type": "PaymentError",
        "message": "Payment 4411 failed for 'anna@x.io'",
        "stack_trace": PY_TRACE,
    }
    report.update(overrides)
    return report


@pytest.fixture
def keys(world):
    with service_context():
        _, world.key_a = api_key_create(organization=world.org_a, name="errors")
        _, world.key_b = api_key_create(organization=world.org_b, name="errors")
    return world


def _post(client, body, key):
    return client.post(URL, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")


def _patterns(org=None):
    with service_context():
        qs = ErrorPattern.objects.all() if org is None else ErrorPattern.objects.filter(organization=org)
        return list(qs.order_by("id"))


# --- fingerprinting ------------------------------------------------------------------------------


def test_normalization_replaces_ids_numbers_quoted_values_and_addresses():
    assert normalize_message("Payment 4411 failed for 'anna@x.io'") == "Payment <num> failed for <str>"
    assert normalize_message("order 0b1e2c3d-1111-2222-3333-444455556666 at http://x.io/a?b=1") == (
        "order <uuid> at <url>"
    )
    assert normalize_message("user anna@example.com from 10.0.0.7:443") == "user <email> from <ip>"


def test_the_top_frame_is_the_innermost_frame_without_line_numbers():
    assert top_frame(stack_trace=PY_TRACE) == "/app/payments.py:charge"
    js = "TypeError: x is undefined\n    at renderTimeline (https://app/js/timeline.js:10:5)\n    at main (app.js:1:1)"
    assert top_frame(stack_trace=js) == "https://app/js/timeline.js:renderTimeline"
    frames = [{"file": "a.py", "function": "outer", "line": 1}, {"file": "b.py", "function": "inner", "line": 9}]
    assert top_frame(frames=frames) == "b.py:inner"
    assert top_frame() == ""


def test_the_same_bug_with_other_ids_and_lines_has_one_fingerprint_and_another_frame_another():
    moved = PY_TRACE.replace("line 42", "line 57")
    a = fingerprint("PaymentError", normalize_message("Payment 4411 failed"), top_frame(stack_trace=PY_TRACE))
    b = fingerprint("PaymentError", normalize_message("Payment 9 failed"), top_frame(stack_trace=moved))
    c = fingerprint("PaymentError", normalize_message("Payment 9 failed"), "/app/refunds.py:charge")
    assert a == b != c and len(a) == 64


# --- ingest --------------------------------------------------------------------------------------


def test_reports_are_stored_under_the_key_organization_and_grouped_into_one_pattern(client, keys):
    with time_machine.travel(WEDNESDAY, tick=False):
        response = _post(
            client, {"errors": [_report(), _report(message="Payment 17 failed for 'bo@y.io'")]}, keys.key_a
        )
    assert response.status_code == 202, response.content
    assert response.json() == {"accepted": 2, "suppressed": 0, "patterns": 1, "regressions": 0, "incidents": []}
    (pattern,) = _patterns()
    assert (pattern.organization_id, pattern.occurrence_count, pattern.status) == (keys.org_a.id, 2, "unresolved")
    assert pattern.normalized_message == "Payment <num> failed for <str>"
    assert pattern.top_frame == "/app/payments.py:charge"
    assert pattern.first_seen == pattern.last_seen == WEDNESDAY
    with service_context():
        assert ErrorReport.objects.filter(pattern=pattern).count() == 2


def test_first_and_last_seen_and_the_worst_level_are_kept(keys):
    early, late = WEDNESDAY - dt.timedelta(hours=2), WEDNESDAY - dt.timedelta(minutes=5)
    with vendor_context(keys.org_a.id):
        errors_ingest(
            organization_id=keys.org_a.id, now=WEDNESDAY, payload=[_report(timestamp=late.isoformat(), level="warning")]
        )
        errors_ingest(
            organization_id=keys.org_a.id, now=WEDNESDAY, payload=[_report(timestamp=early.isoformat(), level="error")]
        )
        errors_ingest(organization_id=keys.org_a.id, now=WEDNESDAY, payload=[_report(level="info")])
    (pattern,) = _patterns()
    assert (pattern.first_seen, pattern.last_seen) == (early, WEDNESDAY)
    assert (pattern.occurrence_count, pattern.level) == (3, "error")


def test_a_resolved_pattern_that_recurs_is_a_regression(keys):
    with vendor_context(keys.org_a.id):
        errors_ingest(organization_id=keys.org_a.id, payload=_report(), now=WEDNESDAY)
        pattern = ErrorPattern.objects.get()
        error_pattern_set_status(pattern=pattern, status="resolved", now=WEDNESDAY + dt.timedelta(minutes=1))
        # A report from before the fix arrives late: not a regression.
        stale = errors_ingest(
            organization_id=keys.org_a.id,
            now=WEDNESDAY + dt.timedelta(minutes=2),
            payload=_report(timestamp=WEDNESDAY.isoformat()),
        )
        assert stale.regressions == 0 and ErrorPattern.objects.get().status == "resolved"
        again = errors_ingest(organization_id=keys.org_a.id, payload=_report(), now=WEDNESDAY + dt.timedelta(hours=1))
    assert again.regressions == 1
    (pattern,) = _patterns()
    assert (pattern.status, pattern.regression_count, pattern.resolved_at) == ("unresolved", 1, None)
    assert pattern.regressed_at == WEDNESDAY + dt.timedelta(hours=1)


def test_an_ignored_pattern_stays_ignored_and_still_counts(keys):
    with vendor_context(keys.org_a.id):
        errors_ingest(organization_id=keys.org_a.id, payload=_report(), now=WEDNESDAY)
        error_pattern_set_status(pattern=ErrorPattern.objects.get(), status="ignored", now=WEDNESDAY)
        errors_ingest(organization_id=keys.org_a.id, payload=_report(), now=WEDNESDAY + dt.timedelta(minutes=1))
    (pattern,) = _patterns()
    assert (pattern.status, pattern.occurrence_count) == ("ignored", 2)
    with pytest.raises(ValidationError):
        error_pattern_set_status(pattern=pattern, status="fixed", now=WEDNESDAY)


def test_a_suppression_rule_drops_matching_reports_and_counts_them(client, keys):
    with service_context():
        rule = error_suppression_rule_create(organization=keys.org_a, name="noisy bot", message_contains="BOT PING")
        error_suppression_rule_create(organization=keys.org_b, name="b only", error_type="PaymentError")
        error_suppression_rule_create(
            organization=None, name="expired", error_type="PaymentError", expires_at=WEDNESDAY - dt.timedelta(days=1)
        )
    with time_machine.travel(WEDNESDAY, tick=False):
        response = _post(client, [_report(), _report(message="bot ping from crawler")], keys.key_a)
    assert response.status_code == 202
    assert (response.json()["accepted"], response.json()["suppressed"]) == (1, 1)
    with service_context():
        assert ErrorSuppressionRule.objects.get(pk=rule.pk).suppressed_count == 1
        assert ErrorReport.objects.count() == 1


def test_a_rule_without_any_criterion_is_refused(world):
    with service_context(), pytest.raises(ValidationError) as exc:
        error_suppression_rule_create(organization=world.org_a, name="everything")
    assert "service" in exc.value.message_dict


def test_every_bad_field_is_named_and_nothing_is_stored(client, keys):
    body = {
        "errors": [_report(), {"service": "", "type": "E", "message": 5, "level": "fatal", "organization": "x"}, "nope"]
    }
    response = _post(client, body, keys.key_a)
    assert response.status_code == 400
    errors = {(e["index"], e["field"]) for e in response.json()["errors"]}
    assert errors == {(1, "service"), (1, "message"), (1, "level"), (1, "organization"), (2, None)}
    assert _patterns() == []


@pytest.mark.parametrize("body, detail", [([], "empty"), ({"errors": [], "x": 1}, "unknown top-level")])
def test_a_body_that_is_not_a_batch_is_400(client, keys, body, detail):
    response = _post(client, body, keys.key_a)
    assert response.status_code == 400 and detail in response.json()["detail"]


def test_without_a_key_the_answer_is_401(client, keys):
    response = client.post(URL, data=json.dumps(_report()), content_type="application/json")
    assert response.status_code == 401
    assert _patterns() == []


# --- tenancy ---------------------------------------------------------------------------------------


def test_another_organization_sees_none_of_the_errors(client, keys):
    _post(client, _report(), keys.key_a)
    with vendor_context(keys.org_b.id):
        assert ErrorPattern.objects.count() == 0 and ErrorReport.objects.count() == 0
    with vendor_context(keys.org_a.id):
        assert ErrorPattern.objects.count() == 1 and ErrorReport.objects.count() == 1
    with connection.cursor() as cur:  # no context at all
        cur.execute("SELECT count(*) FROM error_patterns UNION ALL SELECT count(*) FROM error_reports")
        assert cur.fetchall() == [(0,), (0,)]


def test_the_same_bug_in_two_organizations_makes_two_patterns(client, keys):
    _post(client, _report(), keys.key_a)
    _post(client, _report(), keys.key_b)
    assert [p.organization_id for p in _patterns()] == [keys.org_a.id, keys.org_b.id]


# --- wedding day -------------------------------------------------------------------------------------


def test_a_critical_error_on_a_saturday_opens_a_p0_wedding_day_incident_once(client, keys):
    with time_machine.travel(SATURDAY, tick=False):
        first = _post(client, _report(level="critical"), keys.key_a)
        second = _post(client, _report(level="critical"), keys.key_a)
    assert first.status_code == 202 and len(first.json()["incidents"]) == 1
    assert second.json()["incidents"] == []
    with service_context():
        (incident,) = Incident.objects.all()
        pattern = ErrorPattern.objects.get()
    assert incident.priority == "p0" and incident.title.startswith("WEDDING DAY: ")
    assert incident.organization_id == keys.org_a.id and incident.wedding_impact == "wedding_day_critical"
    assert pattern.incident_id == incident.pk
    with vendor_context(keys.org_b.id):
        assert not Incident.objects.exists()


def test_a_critical_error_on_a_wedding_wednesday_opens_a_p0_but_not_without_a_wedding(keys):
    with service_context():
        Wedding.objects.create(organization=keys.org_a, wedding_date=WEDNESDAY.date(), couple_name="A & B")
    with vendor_context(keys.org_a.id):
        result_a = errors_ingest(organization_id=keys.org_a.id, payload=_report(level="critical"), now=WEDNESDAY)
    with vendor_context(keys.org_b.id):
        result_b = errors_ingest(organization_id=keys.org_b.id, payload=_report(level="critical"), now=WEDNESDAY)
    assert len(result_a.incidents) == 1 and result_b.incidents == []
    with service_context():
        assert Incident.objects.get().priority == "p0"


def test_non_critical_or_ignored_errors_on_a_saturday_open_no_incident(keys):
    with vendor_context(keys.org_a.id):
        errors_ingest(organization_id=keys.org_a.id, payload=_report(level="error"), now=SATURDAY)
        error_pattern_set_status(pattern=ErrorPattern.objects.get(), status="ignored", now=SATURDAY)
        result = errors_ingest(organization_id=keys.org_a.id, payload=_report(level="critical"), now=SATURDAY)
    assert result.incidents == []
    with service_context():
        assert not Incident.objects.exists()
