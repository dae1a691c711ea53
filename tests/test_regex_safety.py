"""Regexes and CPU (issue 13, item 4): vendors' matchers run on RE2, error normalisation is linear.

Seen before: a silence ``service=~"(a+)+b"`` took 2.15 s against 26 ``a``s, four times longer for
every 2 more characters, inside the inbound webhook's transaction; 10 error reports of ``"a." * 5000``
took 2.1 s to normalise. The speed itself is measured by ``bench/hostile_regex.py``; these tests prove
the behaviour: the catastrophic pattern finishes (with Python's ``re`` the 64-character case below would
run for longer than the universe), RE2's refusals answer 400 naming the field, and the linear
normaliser gives exactly the groups the old one gave.
"""

import random
import re

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from alerts.fingerprint import labels_fingerprint
from alerts.models import AlertHistory, SuppressionRule
from alerts.services import alert_fire
from alerts.silences import suppression_rule_create
from apm.errors import normalize_message
from tests.conftest import WEDNESDAY
from wedsync_ops.matchers import MAX_PATTERN_LENGTH, matchers_match, parse_matchers
from wedsync_ops.tenancy.context import service_context

CATASTROPHIC = "(a+)+b"
REFUSED = ["(a)\\1", "(?=a)a", "(?<=a)b", "(?!x).*", "a{1000}{1000}", "x" * (MAX_PATTERN_LENGTH + 1)]


def test_a_catastrophic_pattern_is_matched_in_linear_time_with_alertmanagers_semantics():
    matchers = parse_matchers([{"name": "service", "op": "=~", "value": CATASTROPHIC}])
    assert matchers_match(matchers, {"service": "a" * 64}) is False
    assert matchers_match(matchers, {"service": "a" * 64 + "b"}) is True
    assert matchers_match(parse_matchers([{"name": "s", "op": "=~", "value": "api|web"}]), {"s": "api-2"}) is False
    assert matchers_match(parse_matchers([{"name": "s", "op": "!~", "value": "pay.*"}]), {"s": "payments"}) is False


def test_a_vendor_silence_with_it_mutes_an_inbound_alert_without_stalling_the_transaction(world):
    labels = {"alertname": "Slow", "service": "a" * 64, "organization": "rosewood-florals"}
    with service_context():
        suppression_rule_create(
            kind="silence",
            matchers=[{"name": "service", "op": "=~", "value": CATASTROPHIC}],
            organization_id=world.org_a.id,
            starts_at=WEDNESDAY,
            ends_at=WEDNESDAY.replace(hour=23),
            now=WEDNESDAY,
            comment="x",
        )
        alert, _ = alert_fire(
            organization_id=world.org_a.id,
            fingerprint=labels_fingerprint(labels),
            source="alertmanager",
            title="Slow",
            labels=labels,
            annotations={},
            severity="warning",
            priority="medium",
            starts_at=WEDNESDAY,
            now=WEDNESDAY,
        )
        assert AlertHistory.objects.get(pk=alert.pk).status == "firing"  # 64 a's and no b: not silenced


@pytest.mark.parametrize("pattern", REFUSED, ids=lambda p: p[:12])
def test_patterns_re2_cannot_run_are_refused_naming_the_field(pattern):
    with pytest.raises(ValidationError) as caught:
        parse_matchers([{"name": "service", "op": "=~", "value": pattern}])
    assert "matchers[0].value" in str(caught.value.message_dict["matchers"])


def test_the_silence_form_and_the_alertmanager_api_answer_400_for_them(world, client):
    from alerts.services import integration_create

    with service_context():
        token = integration_create(kind="alertmanager", name="am", organization_id=world.org_a.id)[1]
    client.force_login(world.alice)
    api = APIClient()
    for pattern in REFUSED:
        text = pattern.replace("\\", "\\\\").replace('"', '\\"')  # amtool's quoting
        page = client.post(
            "/org/rosewood-florals/alerts/silences/",
            {"action": "create", "matchers": f'service=~"{text}"', "hours": "1", "comment": "c"},
        )
        assert page.status_code == 400 and b"matchers" in page.content
        answer = api.post(
            "/api/v2/silences",
            {
                "matchers": [{"name": "service", "value": pattern, "isRegex": True}],
                "startsAt": "2026-06-13T12:00:00Z",
                "endsAt": "2026-06-13T13:00:00Z",
                "createdBy": "x",
                "comment": "y",
            },
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert answer.status_code == 400 and answer.json()["field"] == "matchers", pattern
    with service_context():
        assert SuppressionRule.objects.count() == 0


def test_routing_rules_refuse_them_in_the_admin(world, client):
    world.staff.is_superuser = True
    world.staff.save()
    client.force_login(world.staff)
    response = client.post(
        "/admin/notifications/notificationrule/add/",
        {
            "name": "r",
            "position": "1",
            "matchers": '[{"name": "service", "op": "=~", "value": "(a)\\\\1"}]',
            "enabled": "on",
            "rule_channels-TOTAL_FORMS": "0",
            "rule_channels-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200 and b"RE2" in response.content  # the form again, with the reason


# The normaliser's email pattern before issue 13: quadratic on "a.a.a…" without an "@".
OLD_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b")


def _old_normalize(message: str) -> str:
    from apm import errors

    text = message.strip()
    for pattern, placeholder in errors._NORMALIZERS:
        if "<email>" in placeholder:
            text = OLD_EMAIL.sub("<email>", text)
        else:
            text = pattern.sub(placeholder, text)
    return text[:2000]


def test_the_linear_normaliser_groups_exactly_as_the_old_one():
    rng = random.Random(13)
    alphabet = "ab.+-@ é1_x<>'\"0:/"
    samples = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(20_000)]
    samples += [
        "Payment 4411 failed for 'anna@example.com'",
        "mail to -bo.b+x@mail.example.org. now",
        ".a@b.co",
        "..@x.com",
        "a.@x.com-",
        "user@host",
        "a@b.c.d@e.f",
    ]
    assert [normalize_message(s) for s in samples] == [_old_normalize(s) for s in samples]


def test_ten_hostile_reports_are_ingested_and_grouped(world):
    from apm.services import errors_ingest

    with service_context():
        result = errors_ingest(
            organization_id=world.org_a.id,
            now=WEDNESDAY,
            payload=[{"service": "web", "type": "E", "message": "a." * 4999 + str(i)} for i in range(10)],
        )
    assert result.accepted == 10 and result.patterns == 1
    assert normalize_message("a." * 5000) == ("a." * 5000)[:2000]
