"""API for alerts, silences and channels (issue 14 §7), tokens as Token and Bearer, and the offline API docs.

Same tenancy as everywhere: an outsider's object answers 404 like an unknown id; bad input 400
naming the field; writes go through the alerts app's services (the alert's timeline, suppression).
"""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from alerts.models import AlertHistory, SuppressionRule
from audit.models import SuppressionRuleEvent
from notifications.models import NotificationChannel
from tests.factories import make_user_token
from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.models import UserProfile


def api(user, scheme="Token"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {make_user_token(user)}")
    return client


@pytest.fixture
def data(world):
    now = timezone.now()
    with service_context():
        world.alert_a = AlertHistory.objects.create(
            organization=world.org_a,
            source="alertmanager",
            fingerprint="fa",
            title="A checkout slow",
            severity="critical",
            labels={"alertname": "CheckoutSlow", "service": "payments"},
            starts_at=now,
        )
        world.alert_b = AlertHistory.objects.create(
            organization=world.org_b,
            source="alertmanager",
            fingerprint="fb",
            title="B gallery slow",
            severity="warning",
            labels={"alertname": "GallerySlow"},
            starts_at=now,
        )
        world.silence_b = SuppressionRule.objects.create(
            organization=world.org_b,
            kind="silence",
            name="b",
            comment="b",
            matchers=[{"name": "alertname", "op": "=", "value": "GallerySlow"}],
            starts_at=now,
            ends_at=now + dt.timedelta(hours=1),
        )
        world.channel_a = NotificationChannel.objects.create(
            organization=world.org_a,
            kind="webhook",
            name="A hook",
            config={"url": "https://hooks.example/secret-path", "secret": "s3cr3t"},
        )
        world.channel_b = NotificationChannel.objects.create(
            organization=world.org_b, kind="email", name="B mail", config={"to": ["b@example.com"]}
        )
        world.channel_platform = NotificationChannel.objects.create(
            organization=None, kind="email", name="Ops mail", config={"to": ["ops@example.com"]}
        )
    return world


def ids(response):
    assert response.status_code == 200, response.content
    return {r["id"] for r in response.json()["results"]}


def test_user_tokens_work_as_token_and_as_bearer_and_other_bearers_do_not(data):
    for scheme in ("Token", "Bearer"):
        assert ids(api(data.alice, scheme).get("/api/v1/alerts/")) == {str(data.alert_a.id)}
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer wsu_not-a-real-token")
    assert bad.get("/api/v1/alerts/").status_code == 401
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION="Bearer wsk_an-api-key-is-not-a-person")
    assert other.get("/api/v1/alerts/").status_code in (401, 403)


def test_alerts_list_and_detail_are_scoped_and_an_outsider_gets_404(data):
    staff = api(data.staff)
    assert ids(staff.get("/api/v1/alerts/")) == {str(data.alert_a.id), str(data.alert_b.id)}
    assert ids(staff.get("/api/v1/alerts/?severity=warning")) == {str(data.alert_b.id)}
    alice = api(data.alice)
    detail = alice.get(f"/api/v1/alerts/{data.alert_a.id}/").json()
    assert (detail["organization"], detail["labels"]["alertname"]) == ("rosewood-florals", "CheckoutSlow")
    assert alice.get(f"/api/v1/alerts/{data.alert_b.id}/").status_code == 404
    assert alice.post(f"/api/v1/alerts/{data.alert_b.id}/acknowledge/").status_code == 404
    assert alice.post(f"/api/v1/alerts/{data.alert_b.id}/resolve/").status_code == 404
    assert ids(api(data.charlie).get("/api/v1/alerts/")) == set()


def test_acknowledge_and_resolve_go_through_the_services(data):
    alice = api(data.alice, "Bearer")
    response = alice.post(f"/api/v1/alerts/{data.alert_a.id}/acknowledge/")
    assert response.status_code == 200 and response.json()["status"] == "acknowledged"
    assert response.json()["acknowledged_by"] == "alice"
    response = alice.post(f"/api/v1/alerts/{data.alert_a.id}/resolve/")
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    with service_context():
        alert = AlertHistory.objects.get(pk=data.alert_a.pk)
    assert alert.resolved_in_portal and alert.resolved_at is not None
    again = alice.post(f"/api/v1/alerts/{data.alert_a.id}/acknowledge/")
    assert again.status_code == 400 and "status" in again.json()


def test_viewers_read_but_cannot_act(data):
    with service_context():
        UserProfile.objects.filter(user=data.bob).update(role=UserProfile.Role.VIEWER)
    bob = api(data.bob)
    assert ids(bob.get("/api/v1/alerts/")) == {str(data.alert_b.id)}
    assert bob.post(f"/api/v1/alerts/{data.alert_b.id}/acknowledge/").status_code == 403
    assert (
        bob.post(
            "/api/v1/silences/", {"matchers": 'a="b"', "ends_at": "2030-01-01T00:00:00Z", "comment": "x"}, format="json"
        ).status_code
        == 403
    )


def test_a_silence_created_by_api_mutes_at_once_and_is_recorded_with_its_author(data):
    alice = api(data.alice)
    ends = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    response = alice.post(
        "/api/v1/silences/",
        {"matchers": 'alertname="CheckoutSlow", service=~"pay.*"', "ends_at": ends, "comment": "deploying the fix"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["organization"], body["state"], body["created_by"]) == ("rosewood-florals", "active", "alice")
    assert body["matchers_text"] == 'alertname="CheckoutSlow", service=~"pay.*"'
    with service_context():
        assert AlertHistory.objects.get(pk=data.alert_a.pk).status == "suppressed"
        event = SuppressionRuleEvent.objects.get(pgh_obj_id=body["id"], pgh_label="insert")
    assert event.pgh_context["username"] == "alice" and event.pgh_context["url"] == "/api/v1/silences/"
    assert ids(alice.get("/api/v1/silences/?state=active")) == {body["id"]}
    expired = alice.post(f"/api/v1/silences/{body['id']}/expire/")
    assert expired.status_code == 200 and expired.json()["state"] == "expired"
    with service_context():
        assert AlertHistory.objects.get(pk=data.alert_a.pk).status == "firing"
    assert ids(alice.get("/api/v1/silences/?state=expired")) == {body["id"]}


def test_silences_are_scoped_and_an_outsider_gets_404(data):
    alice = api(data.alice)
    assert ids(alice.get("/api/v1/silences/")) == set()
    assert alice.get(f"/api/v1/silences/{data.silence_b.id}/").status_code == 404
    assert alice.post(f"/api/v1/silences/{data.silence_b.id}/expire/").status_code == 404
    assert ids(api(data.staff).get("/api/v1/silences/")) == {str(data.silence_b.id)}
    # A vendor cannot aim a silence at another organization.
    response = alice.post(
        "/api/v1/silences/",
        {"matchers": 'a="b"', "ends_at": "2030-01-01T00:00:00Z", "comment": "x", "organization": "bloom-and-vine"},
        format="json",
    )
    assert response.status_code == 400 and "organization" in response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ends_at": "2030-01-01T00:00:00Z", "comment": "x"}, "matchers"),
        ({"matchers": "%%%", "ends_at": "2030-01-01T00:00:00Z", "comment": "x"}, "matchers"),
        (
            {"matchers": [{"name": "a", "op": "<>", "value": "b"}], "ends_at": "2030-01-01T00:00:00Z", "comment": "x"},
            "matchers",
        ),
        ({"matchers": 'a="b"', "comment": "x"}, "ends_at"),
        ({"matchers": 'a="b"', "ends_at": "tomorrow", "comment": "x"}, "ends_at"),
        ({"matchers": 'a="b"', "ends_at": "2030-01-01T00:00:00", "comment": "x"}, "ends_at"),
        (
            {
                "matchers": 'a="b"',
                "starts_at": "2030-01-02T00:00:00Z",
                "ends_at": "2030-01-01T00:00:00Z",
                "comment": "x",
            },
            "ends_at",
        ),
        ({"matchers": 'a="b"', "ends_at": "2030-01-01T00:00:00Z"}, "comment"),
        ({"matchers": 'a="b"', "ends_at": "2030-01-01T00:00:00Z", "comment": "  "}, "comment"),
        ([1, 2], "body"),
    ],
)
def test_bad_silences_answer_400_naming_the_field_and_store_nothing(data, body, field):
    response = api(data.alice).post("/api/v1/silences/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    with service_context():
        assert SuppressionRule.objects.filter(organization=data.org_a).count() == 0


def test_staff_silence_a_named_organization_or_the_platform(data):
    staff = api(data.staff)
    body = {"matchers": 'alertname="GallerySlow"', "ends_at": "2030-01-01T00:00:00Z", "comment": "known"}
    assert (
        staff.post("/api/v1/silences/", {**body, "organization": "bloom-and-vine"}, format="json").json()[
            "organization"
        ]
        == "bloom-and-vine"
    )
    assert staff.post("/api/v1/silences/", body, format="json").json()["organization"] is None
    response = staff.post("/api/v1/silences/", {**body, "organization": "nope"}, format="json")
    assert response.status_code == 400 and "organization" in response.json()


def test_channels_never_show_their_configuration_and_are_scoped(data):
    alice = api(data.alice)
    response = alice.get("/api/v1/channels/")
    assert ids(response) == {str(data.channel_a.id)}
    assert "secret-path" not in response.content.decode() and "s3cr3t" not in response.content.decode()
    detail = alice.get(f"/api/v1/channels/{data.channel_a.id}/").json()
    assert (detail["name"], detail["kind"], detail["enabled"]) == ("A hook", "webhook", True)
    assert "config" not in detail
    assert alice.get(f"/api/v1/channels/{data.channel_b.id}/").status_code == 404
    assert alice.get(f"/api/v1/channels/{data.channel_platform.id}/").status_code == 404
    assert ids(api(data.staff).get("/api/v1/channels/?kind=email")) == {
        str(data.channel_b.id),
        str(data.channel_platform.id),
    }
    assert api(data.alice).post("/api/v1/channels/", {"name": "x"}, format="json").status_code == 405


def test_api_docs_are_served_offline_after_login(data):
    anonymous = Client()
    for url in ("/api/docs/", "/api/redoc/"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client = Client()
    client.force_login(data.alice)
    swagger = client.get("/api/docs/")
    assert swagger.status_code == 200
    page = swagger.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "http://" not in page and "https://" not in page and "<style" not in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "/api/schema/" in script.content.decode()
    redoc = client.get("/api/redoc/")
    assert redoc.status_code == 200 and "fonts.googleapis" not in redoc.content.decode()
    assert "redoc.standalone.js" in redoc.content.decode()
    schema = client.get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/alerts/",
        "/api/v1/alerts/{id}/acknowledge/",
        "/api/v1/silences/",
        "/api/v1/silences/{id}/expire/",
        "/api/v1/channels/{id}/",
    ):
        assert path in schema["paths"], path
    assert {"userToken", "userBearer"} <= set(schema["components"]["securitySchemes"])
