"""The organization's alert-rules page: members read, owners/admins edit, other organizations get 404."""

import pytest
from django.test import Client

from alerts.models import AlertHistory, AlertRule
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context

URL_A = "/org/rosewood-florals/alerts/rules/"
FORM = {
    "name": "Checkout latency",
    "alert_type": "threshold",
    "service": "payments",
    "metric_name": "checkout_ms",
    "aggregation": "p95",
    "comparison": "above",
    "threshold": "500",
    "wedding_day_threshold": "300",
    "window_minutes": "5",
    "for_seconds": "60",
    "severity": "warning",
    "priority": "medium",
    "enabled": "on",
}


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def page(world):
    with service_context():
        world.rule = AlertRule.objects.create(
            organization=world.org_a, name="Gallery p95", metric_name="gallery_ms", threshold=800
        )
        AlertHistory.objects.create(
            organization=world.org_a,
            source="rule",
            fingerprint="f",
            title="Gallery slow",
            starts_at=WEDNESDAY,
            value=912,
            threshold=640,
            threshold_reason="wedding day: local Saturday 2026-06-13",
        )
    return world


def test_admin_sees_rules_and_the_threshold_reason_of_open_alerts_and_a_form(page):
    html = client_for(page.alice).get(URL_A).content.decode()
    assert "Gallery p95" in html and "wedding day: local Saturday 2026-06-13" in html
    assert 'id="rule-form"' in html


def test_admin_creates_and_edits_a_rule_of_her_organization(page):
    alice = client_for(page.alice)
    response = alice.post(URL_A, FORM)
    assert response.status_code == 302
    with service_context():
        rule = AlertRule.objects.get(name="Checkout latency")
    assert (rule.organization_id, rule.wedding_day_threshold, rule.for_seconds) == (page.org_a.id, 300, 60)
    response = alice.post(f"{URL_A}{page.rule.pk}/", dict(FORM, name="Gallery p95", threshold="900"))
    assert response.status_code == 302
    with service_context():
        assert AlertRule.objects.get(pk=page.rule.pk).threshold == 900


def test_bad_input_answers_400_naming_the_field(page):
    response = client_for(page.alice).post(URL_A, dict(FORM, window_minutes="0"))
    assert response.status_code == 400
    assert "between 1 and 1440 minutes" in response.content.decode()
    response = client_for(page.alice).post(URL_A, dict(FORM, alert_type="pattern_match", pattern="pay(ment"))
    assert response.status_code == 400 and "not a valid regular expression" in response.content.decode()


def test_member_reads_but_cannot_edit_and_outsiders_get_404(page):
    with service_context():
        from wedsync_ops.tenancy.models import UserProfile

        UserProfile.objects.create(user=page.charlie, organization=page.org_a, role="member")
    charlie = client_for(page.charlie)
    html = charlie.get(URL_A).content.decode()
    assert "Gallery p95" in html and 'id="rule-form"' not in html
    assert charlie.post(URL_A, FORM).status_code == 404
    bob = client_for(page.bob)
    assert bob.get(URL_A).status_code == 404
    assert bob.get(f"/org/bloom-and-vine/alerts/rules/{page.rule.pk}/").status_code == 404  # another org's rule
    assert client_for(page.alice).get("/org/bloom-and-vine/alerts/rules/").status_code == 404
    assert Client().get(URL_A).status_code in (302, 404)
