"""The tenancy admin: organizations, memberships, weddings, API keys (the key hash is never rendered)."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from wedsync_ops.tenancy.auth import hash_token
from wedsync_ops.tenancy.context import service_context
from wedsync_ops.tenancy.models import ApiKey, UserProfile, Wedding

RAW_KEY = "wsk_live_0123456789abcdefghijklmnopqrstuvwxyz"
KEY_HASH = hash_token(RAW_KEY)


@pytest.fixture
def admin_world(world):
    """world + a superuser ``root`` (staff), a wedding and an API key of org_a, a revoked key of org_b."""
    w = world
    with service_context():
        w.root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
        w.wedding = Wedding.objects.create(
            organization=w.org_a, wedding_date=dt.date(2026, 6, 13), couple_name="Ada & Arthur", venue_name="Orangery"
        )
        w.key = ApiKey.objects.create(organization=w.org_a, name="ingest", prefix=RAW_KEY[:12], key_hash=KEY_HASH)
        w.revoked_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        w.old_key = ApiKey.objects.create(
            organization=w.org_b, name="old", prefix="wsk_live_old", key_hash=hash_token("old"), revoked_at=w.revoked_at
        )
        w.profile = UserProfile.objects.get(user=w.alice)
    return w


@pytest.fixture
def root_client(client, admin_world):
    client.force_login(admin_world.root)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/tenancy/organization/",
        "/admin/tenancy/organization/?q=rosewood",
        "/admin/tenancy/organization/?timezone=Europe%2FLondon",
        "/admin/tenancy/userprofile/",
        "/admin/tenancy/userprofile/?role__exact=admin",
        "/admin/tenancy/wedding/",
        "/admin/tenancy/wedding/?q=Orangery",
        "/admin/tenancy/wedding/?wedding_date__year=2026&wedding_date__month=6",
        "/admin/tenancy/wedding/?status__exact=confirmed",
        "/admin/tenancy/apikey/",
        "/admin/tenancy/apikey/?revoked_at__isempty=1",
    ],
)
def test_tenancy_changelists_load_for_staff(root_client, url):
    assert root_client.get(url).status_code == 200


def test_tenancy_changelists_show_rows_of_every_organization_to_staff(root_client, admin_world):
    orgs = root_client.get("/admin/tenancy/organization/").content.decode()
    assert "Rosewood Florals" in orgs and "Bloom &amp; Vine" in orgs
    filtered = root_client.get("/admin/tenancy/organization/?q=bloom").content.decode()
    assert "Bloom &amp; Vine" in filtered and "Rosewood Florals" not in filtered
    weddings = root_client.get("/admin/tenancy/wedding/?q=Orangery").content.decode()
    assert "Ada &amp; Arthur" in weddings


def test_tenancy_change_pages_load_for_staff(root_client, admin_world):
    w = admin_world
    for url in (
        f"/admin/tenancy/organization/{w.org_a.pk}/change/",
        f"/admin/tenancy/userprofile/{w.profile.pk}/change/",
        f"/admin/tenancy/wedding/{w.wedding.pk}/change/",
        f"/admin/tenancy/apikey/{w.key.pk}/change/",
        "/admin/tenancy/organization/add/",
        "/admin/tenancy/wedding/add/",
    ):
        response = root_client.get(url)
        assert response.status_code == 200, url


def test_membership_and_wedding_admin_use_autocomplete_for_user_and_organization(root_client, admin_world):
    html = root_client.get(f"/admin/tenancy/userprofile/{admin_world.profile.pk}/change/").content.decode()
    assert 'data-field-name="user"' in html and 'data-field-name="organization"' in html
    assert "admin-autocomplete" in html
    lookup = root_client.get(
        "/admin/autocomplete/",
        {"term": "rose", "app_label": "tenancy", "model_name": "wedding", "field_name": "organization"},
    )
    assert lookup.status_code == 200
    assert [r["text"] for r in lookup.json()["results"]] == ["Rosewood Florals"]


def test_api_key_admin_never_renders_the_key_hash(root_client, admin_world):
    w = admin_world
    for url in (
        "/admin/tenancy/apikey/",
        f"/admin/tenancy/apikey/{w.key.pk}/change/",
        f"/admin/tenancy/apikey/{w.key.pk}/history/",
        f"/admin/tenancy/apikey/{w.key.pk}/delete/",
        f"/admin/tenancy/organization/{w.org_a.pk}/delete/",
    ):
        html = root_client.get(url).content.decode()
        assert KEY_HASH not in html, url
        assert KEY_HASH[:16] not in html, url
    change = root_client.get(f"/admin/tenancy/apikey/{w.key.pk}/change/").content.decode()
    assert RAW_KEY[:12] in change  # the prefix, to recognise the key
    # Searching by the hash finds nothing: the hash is not a search field.
    assert root_client.get("/admin/tenancy/apikey/", {"q": KEY_HASH}).context["cl"].result_count == 0
    assert root_client.get("/admin/tenancy/apikey/", {"q": RAW_KEY[:12]}).context["cl"].result_count == 1


def test_api_keys_cannot_be_added_in_admin(root_client):
    assert root_client.get("/admin/tenancy/apikey/add/").status_code == 403


def test_revoke_action_revokes_active_keys_and_keeps_earlier_revocation_dates(root_client, admin_world):
    w = admin_world
    response = root_client.post(
        "/admin/tenancy/apikey/",
        {"action": "revoke_api_keys", "_selected_action": [str(w.key.pk), str(w.old_key.pk)]},
        follow=True,
    )
    assert response.status_code == 200 and b"Revoked 1 API key(s)." in response.content
    with service_context():
        w.key.refresh_from_db()
        w.old_key.refresh_from_db()
    assert w.key.revoked_at is not None
    assert w.old_key.revoked_at == w.revoked_at


def test_editing_an_api_key_cannot_change_its_hash_or_prefix(root_client, admin_world):
    w = admin_world
    response = root_client.post(
        f"/admin/tenancy/apikey/{w.key.pk}/change/",
        {"name": "renamed", "revoked_at_0": "", "revoked_at_1": "", "key_hash": "0" * 64, "prefix": "hacked"},
    )
    assert response.status_code == 302
    with service_context():
        w.key.refresh_from_db()
    assert (w.key.name, w.key.key_hash, w.key.prefix) == ("renamed", KEY_HASH, RAW_KEY[:12])


@pytest.mark.parametrize("who", ["alice", "bob", "charlie"])
def test_vendor_users_get_no_admin(client, admin_world, who):
    client.force_login(getattr(admin_world, who))
    for url in ("/admin/", "/admin/tenancy/organization/", f"/admin/tenancy/apikey/{admin_world.key.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/?next="), url
