"""Row-level security of the heartbeats tables and functions, as the application role: outsiders get nothing."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from heartbeats.models import HeartbeatCheck, JobRun
from heartbeats.services import check_create, checks_evaluate, ping_record
from tests.conftest import WEDNESDAY
from wedsync_ops.tenancy.context import service_context, staff_context, vendor_context

H = dt.timedelta(hours=1)


def _rows(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall()


@pytest.fixture
def data(world):
    with service_context():
        world.check_a = check_create(
            organization_id=world.org_a.id, name="A backup", now=WEDNESDAY, period_s=3600, grace_s=600
        )
        world.check_b = check_create(
            organization_id=world.org_b.id, name="B backup", now=WEDNESDAY, period_s=3600, grace_s=600
        )
        world.platform = check_create(
            organization_id=None, name="Platform backup", now=WEDNESDAY, period_s=3600, grace_s=600
        )
        for check in (world.check_a, world.check_b, world.platform):
            ping_record(check=check, kind="success", now=WEDNESDAY, body=b"secret log")
        checks_evaluate(now=WEDNESDAY + 2 * H)  # all three go down: flips and alerts
        JobRun.objects.create(job="heartbeats-cleanup", task="heartbeats.tasks.cleanup", started_at=WEDNESDAY)
    return world


@pytest.mark.parametrize("table", ["heartbeat_checks", "heartbeat_pings", "heartbeat_flips"])
def test_a_vendor_reads_only_its_own_rows_in_raw_sql_and_no_context_reads_none(data, table):
    with vendor_context(data.org_a.id):
        assert _rows(f"SELECT DISTINCT organization_id FROM {table}") == [(data.org_a.id,)]
    with vendor_context(data.org_b.id):
        assert _rows(f"SELECT DISTINCT organization_id FROM {table}") == [(data.org_b.id,)]
    assert _rows(f"SELECT count(*) FROM {table}") == [(0,)]
    with staff_context():
        assert _rows(f"SELECT count(*) FROM {table} WHERE organization_id IS NULL")[0][0] >= 1


def test_job_runs_are_staff_only(data):
    for ctx in (vendor_context(data.org_a.id), vendor_context(data.org_b.id)):
        with ctx:
            assert _rows("SELECT count(*) FROM job_runs") == [(0,)]
            assert JobRun.objects.count() == 0
            assert _rows("SELECT started_at FROM heartbeat_job_latest_runs(ARRAY['heartbeats-cleanup'])") == [(None,)]
    with staff_context():
        assert _rows("SELECT started_at FROM heartbeat_job_latest_runs(ARRAY['heartbeats-cleanup'])") == [(WEDNESDAY,)]


def test_a_vendor_cannot_create_or_change_another_organizations_or_platform_checks(data):
    with vendor_context(data.org_a.id):
        for org_id in (data.org_b.id, None):
            with pytest.raises(DatabaseError, match="row-level security"):
                with transaction.atomic():
                    check_create(organization_id=org_id, name="sneaky", now=WEDNESDAY)
        assert HeartbeatCheck.objects.filter(pk=data.check_b.pk).update(name="hacked") == 0
        assert HeartbeatCheck.objects.filter(pk=data.platform.pk).delete()[0] == 0


def test_the_tick_in_a_vendor_context_touches_only_that_organizations_checks(data):
    with service_context():
        for check in (data.check_a, data.check_b):
            ping_record(check=check, kind="success", now=WEDNESDAY + 3 * H)
    with vendor_context(data.org_a.id):
        changed = _rows("SELECT check_id FROM heartbeat_checks_evaluate(%s)", [WEDNESDAY + 5 * H])
    assert changed == [(data.check_a.pk,)]
    with service_context():
        assert HeartbeatCheck.objects.get(pk=data.check_b.pk).status == "up"


def test_the_ping_uuid_of_another_organization_is_not_visible_to_a_vendor(data):
    with vendor_context(data.org_a.id):
        assert not HeartbeatCheck.objects.filter(ping_uuid=data.check_b.ping_uuid).exists()
        assert _rows("SELECT count(*) FROM heartbeat_checks WHERE ping_uuid = %s", [data.check_b.ping_uuid]) == [(0,)]
