"""The tenant context of a request lives and dies with its transaction, on a reused connection."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import JsonResponse
from django.test import RequestFactory

from wedsync_ops.tenancy.middleware import TenantContextMiddleware


def _probe_view(request):
    """What the database sees inside the request: the settings and the visible organizations."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT current_setting('app.role', true), current_setting('app.org_id', true),"
            " (SELECT array_agg(slug ORDER BY slug) FROM organizations)"
        )
        role, org_id, slugs = cur.fetchone()
    return JsonResponse(
        {"role": role, "org_id": org_id, "slugs": slugs or [], "backend": connection.connection.info.backend_pid}
    )


def _request_as(user):
    request = RequestFactory().get("/probe")
    request.user = user
    return TenantContextMiddleware(_probe_view)(request)


def _settings_now():
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('app.role', true), current_setting('app.org_id', true)")
        return cur.fetchone()


@pytest.fixture
def committed_world(transactional_db, django_user_model):
    """The cast of conftest's ``world``, committed (these tests need real transactions)."""
    from wedsync_ops.tenancy.context import service_context
    from wedsync_ops.tenancy.models import Organization, UserProfile

    with service_context():
        org_a = Organization.objects.create(slug="rosewood-florals", name="Rosewood", timezone="Europe/London")
        org_b = Organization.objects.create(slug="bloom-and-vine", name="Bloom", timezone="Australia/Sydney")
        alice = django_user_model.objects.create_user("alice", password="x-alice-123")
        staff = django_user_model.objects.create_user("staff", password="x-staff-123", is_staff=True)
        charlie = django_user_model.objects.create_user("charlie", password="x-charlie-123")
        UserProfile.objects.create(user=alice, organization=org_a, role="admin")
    return {"org_a": org_a, "org_b": org_b, "alice": alice, "staff": staff, "charlie": charlie}


def test_a_vendors_organization_never_leaks_into_the_next_request_on_the_same_connection(committed_world):
    first = _request_as(committed_world["alice"])
    assert first.status_code == 200
    import json

    body = json.loads(first.content)
    assert body["role"] == "vendor" and body["slugs"] == ["rosewood-florals"]

    # Between requests, on the same connection, the settings read '' again.
    assert not connection.in_atomic_block
    assert _settings_now() == ("", "")

    second = json.loads(_request_as(AnonymousUser()).content)
    assert second["backend"] == body["backend"], "the test must reuse the connection"
    assert second["role"] == "" and second["org_id"] == "" and second["slugs"] == []


def test_staff_request_sees_every_organization_then_nothing_leaks(committed_world):
    import json

    staff = json.loads(_request_as(committed_world["staff"]).content)
    assert staff["slugs"] == ["bloom-and-vine", "rosewood-florals"]
    after = json.loads(_request_as(committed_world["charlie"]).content)
    assert after["backend"] == staff["backend"]
    assert after["slugs"] == []  # charlie belongs to no organization


def test_context_is_gone_even_when_the_view_raises(committed_world):
    def boom(request):
        raise RuntimeError("view failed")

    request = RequestFactory().get("/boom")
    request.user = committed_world["alice"]
    with pytest.raises(RuntimeError):
        TenantContextMiddleware(boom)(request)
    assert _settings_now() == ("", "")
