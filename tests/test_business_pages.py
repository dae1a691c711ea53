"""The business pages: a vendor's /org/<slug>/business/ (charts, funnels, segments; outsiders 404), staff's
/ops/business/ (every organization; others 404), the admin, and the endpoint in the OpenAPI schema."""

import pytest

from tests.factories import make_business_rows


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def business(world):
    make_business_rows(world.org_a)
    return world


def test_a_vendor_sees_its_revenue_health_funnels_segments_and_features_with_charts(business, client):
    client.force_login(business.alice)
    response = client.get("/org/rosewood-florals/business/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<svg") >= 4  # bookings, success rate, money, one funnel
    assert "Enquiry to payment" in page and "Weddings in the next 30 days" in page
    assert "£300" in page and "£150" in page  # revenue and failed-payment revenue
    assert "50 %" in page  # one payment of two succeeded
    assert "rsvp" in page  # properties.feature


def test_an_outsider_gets_404_and_anonymous_visitors_the_login(business, client):
    client.force_login(business.bob)
    assert client.get("/org/rosewood-florals/business/").status_code == 404
    client.force_login(business.charlie)
    assert client.get("/org/rosewood-florals/business/").status_code == 404
    client.logout()
    response = client.get("/org/rosewood-florals/business/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_bobs_own_page_shows_none_of_rosewoods_business(business, client):
    client.force_login(business.bob)
    page = client.get("/org/bloom-and-vine/business/").content.decode()
    assert "Enquiry to payment" not in page and "£300" not in page
    assert "No funnels yet" in page


def test_staff_see_every_organization_and_vendors_get_404(business, client):
    client.force_login(business.staff)
    page = client.get("/ops/business/").content.decode()
    assert "Rosewood Florals" in page and "50 %" in page and "<svg" in page
    assert client.get("/org/rosewood-florals/business/").status_code == 200
    client.force_login(business.alice)
    assert client.get("/ops/business/").status_code == 404


def test_the_ingest_endpoint_is_in_the_openapi_schema_with_the_api_key(db):
    from django.urls import include, path
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(patterns=[path("api/v1/", include("business.urls"))]).get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/business-events/"]["post"]
    assert operation["operationId"] == "business_events_ingest"
    assert {"202", "400", "401"} <= set(operation["responses"])
    assert operation["security"] == [{"apiKey": []}]
    event = schema["components"]["schemas"]["BusinessEvent"]
    assert event["required"] == ["event_type"]
    assert "payment_failed" in schema["components"]["schemas"]["EventTypeEnum"]["enum"]
