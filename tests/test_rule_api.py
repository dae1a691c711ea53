"""Alert rules API: org admins edit their own rules, members read, staff everything, outsiders nothing (404)."""

import pytest
from rest_framework.test import APIClient

from alerts.models import AlertRule
from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.models import UserProfile

URL = "/api/v1/alert-rules/"
RULE = {
    "name": "Checkout latency",
    "metric_name": "checkout_ms",
    "service": "payments",
    "aggregation": "p95",
    "comparison": "above",
    "threshold": 500,
    "wedding_day_threshold": 300,
    "window_minutes": 5,
    "for_seconds": 120,
    "severity": "warning",
    "priority": "medium",
}


def client_for(user):
    client = APIClient()
    client.force_login(user)  # the session authentication sets the tenant context, as in the portal
    return client


@pytest.fixture
def rules(world):
    with service_context():
        world.rule_a = AlertRule.objects.create(organization=world.org_a, name="A rule", metric_name="m", threshold=1)
        world.rule_b = AlertRule.objects.create(organization=world.org_b, name="B rule", metric_name="m", threshold=1)
        world.platform = AlertRule.objects.create(organization=None, name="Platform", metric_name="m", threshold=1)
    return world


def names(response):
    assert response.status_code == 200, response.content
    return [r["name"] for r in response.json()["results"]]


def test_each_user_lists_only_what_they_may_see(rules):
    assert names(client_for(rules.staff).get(URL)) == ["A rule", "B rule", "Platform"]
    assert names(client_for(rules.alice).get(URL)) == ["A rule"]
    assert names(client_for(rules.bob).get(URL)) == ["B rule"]
    assert names(client_for(rules.charlie).get(URL)) == []
    assert APIClient().get(URL).status_code in (401, 403)


def test_org_admin_creates_a_rule_for_her_own_organization_whatever_she_sends(rules):
    response = client_for(rules.alice).post(URL, dict(RULE, organization=None), format="json")
    assert response.status_code == 201, response.content
    with service_context():
        rule = AlertRule.objects.get(pk=response.json()["id"])
    assert rule.organization_id == rules.org_a.id
    assert (rule.wedding_day_threshold, rule.for_seconds) == (300, 120)


def test_org_admin_updates_and_deletes_her_rule_but_another_organizations_answers_404(rules):
    alice = client_for(rules.alice)
    assert alice.patch(f"{URL}{rules.rule_a.pk}/", {"threshold": 750}, format="json").status_code == 200
    with service_context():
        assert AlertRule.objects.get(pk=rules.rule_a.pk).threshold == 750
    assert alice.patch(f"{URL}{rules.rule_b.pk}/", {"threshold": 1}, format="json").status_code == 404
    assert alice.get(f"{URL}{rules.platform.pk}/").status_code == 404
    assert alice.delete(f"{URL}{rules.rule_b.pk}/").status_code == 404
    assert alice.delete(f"{URL}{rules.rule_a.pk}/").status_code == 204
    with service_context():
        assert set(AlertRule.objects.values_list("name", flat=True)) == {"B rule", "Platform"}


def test_members_read_but_cannot_change(rules):
    bob = client_for(rules.bob)  # member of bloom-and-vine
    assert bob.get(f"{URL}{rules.rule_b.pk}/").status_code == 200
    assert bob.patch(f"{URL}{rules.rule_b.pk}/", {"threshold": 2}, format="json").status_code == 403
    assert bob.post(URL, RULE, format="json").status_code == 403
    with service_context():
        UserProfile.objects.filter(user=rules.bob).update(role="owner")
    assert bob.patch(f"{URL}{rules.rule_b.pk}/", {"threshold": 2}, format="json").status_code == 200


def test_staff_create_platform_wide_rules(rules):
    response = client_for(rules.staff).post(URL, dict(RULE, organization=None), format="json")
    assert response.status_code == 201, response.content
    with service_context():
        assert AlertRule.objects.get(pk=response.json()["id"]).organization_id is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"window_minutes": 0}, "window_minutes"),
        ({"metric_name": ""}, "metric_name"),
        ({"alert_type": "pattern_match"}, "pattern"),
        ({"alert_type": "pattern_match", "pattern": "pay(ment"}, "pattern"),
        ({"alert_type": "pattern_match", "pattern": "timeout", "threshold": 0}, "threshold"),
        ({"alert_type": "composite", "composite_rule_ids": []}, "composite_rule_ids"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"labels": {"team": 3}}, "labels"),
    ],
)
def test_bad_rules_answer_400_naming_the_field(rules, change, field):
    response = client_for(rules.alice).post(URL, dict(RULE, **change), format="json")
    assert response.status_code == 400
    assert field in response.json()
    with service_context():
        assert not AlertRule.objects.filter(name="Checkout latency").exists()


def test_composite_cannot_use_another_organizations_rule(rules):
    body = dict(RULE, alert_type="composite", composite_rule_ids=[str(rules.rule_b.pk)])
    response = client_for(rules.alice).post(URL, body, format="json")
    assert response.status_code == 400
    assert "composite_rule_ids" in response.json()
    body["composite_rule_ids"] = [str(rules.rule_a.pk)]
    assert client_for(rules.alice).post(URL, body, format="json").status_code == 201
