"""Row-level security of the tenancy tables, run as the application role."""

import datetime as dt

import pytest
from django.db import connection

from wedsync_ops.tenancy.context import (
    TenantContext,
    TenantContextError,
    service_context,
    set_tenant_context,
    staff_context,
    vendor_context,
)
from wedsync_ops.tenancy.models import Organization, Wedding


def _sql(query, params=None):
    with connection.cursor() as cur:
        cur.execute(query, params or [])
        return cur.fetchall()


@pytest.fixture
def weddings(world):
    with service_context():
        Wedding.objects.create(organization=world.org_a, wedding_date=dt.date(2026, 6, 13), couple_name="A & B")
        Wedding.objects.create(organization=world.org_b, wedding_date=dt.date(2026, 6, 13), couple_name="C & D")
    return world


def test_tests_run_as_the_application_role_without_superuser_or_bypassrls(db):
    ((user, is_super, bypass),) = _sql(
        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    assert user == "wedsync_app" and is_super is False and bypass is False
    # And it owns nothing.
    assert _sql(
        "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
    ) == [(0,)]


def test_no_context_sees_no_rows(weddings):
    with connection.cursor() as cur:
        for table in ("organizations", "user_profiles", "weddings"):
            cur.execute(f"SELECT count(*) FROM {table}")
            assert cur.fetchone() == (0,), table


def test_vendor_sees_only_its_organization_in_raw_sql(weddings):
    with vendor_context(weddings.org_a.id):
        assert _sql("SELECT slug FROM organizations") == [("rosewood-florals",)]
        assert _sql("SELECT couple_name FROM weddings") == [("A & B",)]
        assert Organization.objects.filter(slug="bloom-and-vine").count() == 0


def test_vendor_cannot_write_into_another_organization(weddings):
    from django.db import DatabaseError, transaction

    with vendor_context(weddings.org_a.id):
        with pytest.raises(DatabaseError, match="row-level security"):
            with transaction.atomic():
                Wedding.objects.create(organization=weddings.org_b, wedding_date=dt.date(2026, 6, 20), couple_name="X")
        # Updates of rows it cannot see touch nothing.
        assert Wedding.objects.filter(organization=weddings.org_b).update(couple_name="hacked") == 0


def test_staff_and_service_see_every_organization(weddings):
    with staff_context():
        assert _sql("SELECT count(*) FROM weddings") == [(2,)]
    with service_context():
        assert _sql("SELECT count(*) FROM organizations") == [(2,)]


@pytest.mark.django_db(transaction=True)
def test_context_must_be_set_inside_a_transaction():
    assert not connection.in_atomic_block
    with pytest.raises(TenantContextError):
        set_tenant_context(TenantContext(role="staff"))


def test_vendor_context_without_organization_is_refused(db):
    with pytest.raises(TenantContextError):
        set_tenant_context(TenantContext(role="vendor"))


def test_is_wedding_day_uses_the_local_date(weddings):
    with service_context():
        assert _sql("SELECT is_wedding_day(%s, '2026-06-13')", [weddings.org_a.id]) == [(True,)]
        assert _sql("SELECT is_wedding_day(%s, '2026-06-14')", [weddings.org_a.id]) == [(False,)]
        # 2026-06-12 22:30 UTC is already Saturday 08:30 in Sydney, still Friday 23:30 in London (BST).
        at = dt.datetime(2026, 6, 12, 22, 30, tzinfo=dt.UTC)
        assert _sql("SELECT active FROM wedding_day_protocol(%s, %s)", [weddings.org_b.id, at]) == [(True,)]
        assert _sql("SELECT active FROM wedding_day_protocol(%s, %s)", [weddings.org_a.id, at]) == [(False,)]
