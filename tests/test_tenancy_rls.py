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


# --- policies evaluate the context once per statement (issue 16 §3) -------------------------------------

# Policies with an expression of their own file (not made by apply_tenant_rls / apply_staff_only_rls).
_OWN_EXPRESSIONS = {
    ("organizations", "tenant_rows"),
    ("audit_organization_events", "tenant_rows"),
    ("api_keys", "token_lookup"),
    ("alert_integrations", "token_lookup"),
    ("user_profiles", "own_profile"),
}


def test_every_generated_policy_reads_the_context_in_an_initplan(db):
    """apply_tenant_rls/apply_staff_only_rls policies wrap the context functions in scalar subqueries, so
    PostgreSQL evaluates them once per statement, not once per row."""
    rows = _sql(
        "SELECT c.relname, p.polname, pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)"
        " FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public'"
    )
    generated = [r for r in rows if (r[0], r[1]) not in _OWN_EXPRESSIONS]
    assert len(generated) > 40
    per_row = [
        (table, policy)
        for table, policy, using, check in generated
        if any(e is not None and "SELECT app_is_platform()" not in e for e in (using, check))
    ]
    assert per_row == []


def test_a_vendor_scan_of_a_tenant_table_runs_the_context_once(weddings):
    """The plan of a vendor's scan has the context as InitPlans and filters rows by a parameter."""
    with vendor_context(weddings.org_a.id):
        plan = "\n".join(r[0] for r in _sql("EXPLAIN (COSTS OFF) SELECT * FROM weddings"))
        assert "InitPlan" in plan
        assert "app_vendor_org_id()" not in plan.split("InitPlan")[0]
        assert {r[0] for r in _sql("SELECT organization_id FROM weddings")} == {weddings.org_a.id}
