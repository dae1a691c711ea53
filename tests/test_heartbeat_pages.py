"""Heartbeat pages: vendors' /org/<slug>/heartbeats/, staff's /ops/heartbeats/ and /ops/jobs/, the admin.

Every page and admin list is also tried by an outsider, who gets nothing (404, or the admin login).
"""

import datetime as dt

import pytest
from django.utils import timezone

from heartbeats.models import HeartbeatCheck, JobRun
from heartbeats.services import check_create, checks_evaluate, ping_record
from wedsync_ops.tenancy.context import service_context

H = dt.timedelta(hours=1)


@pytest.fixture
def checks(world):
    """Rosewood: an up check with a ping log and a down one; Bloom & Vine: one check; the platform: one check."""
    now = timezone.now()
    with service_context():
        up = check_create(
            organization_id=world.org_a.id,
            name="Nightly backup",
            now=now - 30 * H,
            kind="cron",
            cron="0 2 * * *",
            timezone="Europe/London",
            grace_s=3600,
        )
        down = check_create(
            organization_id=world.org_a.id, name="Invoice run", now=now - 30 * H, period_s=3600, grace_s=600
        )
        ping_record(check=up, kind="success", now=now - 20 * H, body=b"pg_dump: 1,204 MB written")
        ping_record(check=up, kind="success", now=now - H, body=b"pg_dump: 1,206 MB written")
        ping_record(check=down, kind="success", now=now - 5 * H)
        checks_evaluate(now=now)
        bloom = check_create(
            organization_id=world.org_b.id, name="Bloom secret sync", now=now, period_s=600, grace_s=600
        )
        platform = check_create(organization_id=None, name="Platform DB backup", now=now, period_s=86400, grace_s=3600)
    world.up, world.down, world.bloom, world.platform = up, down, bloom, platform
    return world


def test_vendor_sees_its_checks_with_last_pings_strip_and_states(client, checks):
    client.force_login(checks.alice)
    response = client.get("/org/rosewood-florals/heartbeats/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Nightly backup" in body and "Invoice run" in body
    assert "Bloom secret sync" not in body and "Platform DB backup" not in body
    assert body.count('class="status-strip"') == 2
    assert "1 day with downtime" in body  # the invoice run went down today
    assert "0 2 * * * (At 02:00 every day, Europe/London)" in body
    assert 'id="check-form"' in body  # alice is an admin


def test_check_page_shows_the_ping_url_curl_and_crontab_lines_and_the_log(client, checks, settings):
    client.force_login(checks.alice)
    body = client.get(f"/org/rosewood-florals/heartbeats/{checks.up.pk}/").content.decode()
    url = checks.up.ping_url
    assert f"curl -fsS -m 10 --retry 5 -o /dev/null {url}" in body
    assert "CRON_TZ=Europe/London\n0 2 * * * /usr/local/bin/backup.sh &amp;&amp; curl" in body
    assert f"{url}/start; out=$(/usr/local/bin/backup.sh 2&gt;&amp;1);" in body
    assert "pg_dump: 1,206 MB written" in body and "pg_dump: 1,204 MB written" in body
    assert "At 02:00 every day" in body


def test_admin_creates_a_check_and_gets_its_ping_url(client, checks):
    client.force_login(checks.alice)
    response = client.post(
        "/org/rosewood-florals/heartbeats/",
        {
            "name": "Gallery export",
            "kind": "period",
            "period_minutes": "60",
            "timezone": "Europe/London",
            "grace_minutes": "15",
            "wedding_day_grace_minutes": "5",
            "severity": "critical",
            "priority": "high",
        },
    )
    assert response.status_code == 302
    with service_context():
        created = HeartbeatCheck.objects.get(name="Gallery export")
    assert (created.organization_id, created.period_s, created.grace_s, created.wedding_day_grace_s) == (
        checks.org_a.id,
        3600,
        900,
        300,
    )
    assert response["Location"] == f"/org/rosewood-florals/heartbeats/{created.pk}/"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "cron", "cron": "0 25 * * *"}, "cron"),
        ({"timezone": "Nowhere/Land"}, "timezone"),
        ({"grace_minutes": "10", "wedding_day_grace_minutes": "20"}, "wedding_day_grace_minutes"),
    ],
)
def test_bad_input_answers_400_naming_the_field(client, checks, change, field):
    client.force_login(checks.alice)
    data = {
        "name": "Bad one",
        "kind": "period",
        "period_minutes": "60",
        "timezone": "UTC",
        "grace_minutes": "10",
        "severity": "warning",
        "priority": "high",
        **change,
    }
    response = client.post("/org/rosewood-florals/heartbeats/", data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    with service_context():
        assert not HeartbeatCheck.objects.filter(name="Bad one").exists()


def test_admin_edits_pauses_and_deletes_a_check(client, checks):
    client.force_login(checks.alice)
    url = f"/org/rosewood-florals/heartbeats/{checks.down.pk}/"
    data = {
        "name": "Invoice run (hourly)",
        "kind": "period",
        "period_minutes": "60",
        "timezone": "UTC",
        "grace_minutes": "20",
        "severity": "warning",
        "priority": "high",
        "action": "save",
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, {"action": "pause"}).status_code == 302
    with service_context():
        check = HeartbeatCheck.objects.get(pk=checks.down.pk)
        assert (check.name, check.grace_s, check.status) == ("Invoice run (hourly)", 1200, "paused")
    assert client.post(url, {"action": "delete"}).status_code == 302
    with service_context():
        assert not HeartbeatCheck.objects.filter(pk=checks.down.pk).exists()


def test_member_reads_but_cannot_change_and_outsiders_get_404(client, checks):
    client.force_login(checks.bob)  # member of bloom-and-vine
    own = client.get("/org/bloom-and-vine/heartbeats/")
    assert own.status_code == 200 and "Bloom secret sync" in own.content.decode()
    assert 'id="check-form"' not in own.content.decode()
    assert client.post("/org/bloom-and-vine/heartbeats/", {"name": "x"}).status_code == 404
    assert client.post(f"/org/bloom-and-vine/heartbeats/{checks.bloom.pk}/", {"action": "pause"}).status_code == 404
    for path in (
        "/org/rosewood-florals/heartbeats/",
        f"/org/rosewood-florals/heartbeats/{checks.up.pk}/",
        f"/org/bloom-and-vine/heartbeats/{checks.up.pk}/",  # another organization's check under one's own slug
        f"/org/bloom-and-vine/heartbeats/{checks.platform.pk}/",
        "/ops/heartbeats/",
        f"/ops/heartbeats/{checks.up.pk}/",
        "/ops/jobs/",
        "/ops/jobs/heartbeats-cleanup/",
    ):
        assert client.get(path).status_code == 404, path
    client.force_login(checks.charlie)  # no organization
    assert client.get("/org/rosewood-florals/heartbeats/").status_code == 404
    client.logout()
    response = client.get("/org/rosewood-florals/heartbeats/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_staff_list_every_check_filter_by_state_and_create_platform_checks(client, checks):
    client.force_login(checks.staff)
    body = client.get("/ops/heartbeats/").content.decode()
    for name in ("Nightly backup", "Invoice run", "Bloom secret sync", "Platform DB backup"):
        assert name in body
    down_only = client.get("/ops/heartbeats/?status=down").content.decode()
    assert "Invoice run" in down_only and "Nightly backup" not in down_only
    response = client.post(
        "/ops/heartbeats/",
        {
            "name": "Certificate renewal",
            "kind": "cron",
            "cron": "0 3 * * 1",
            "timezone": "UTC",
            "period_minutes": "1440",
            "grace_minutes": "120",
            "severity": "warning",
            "priority": "medium",
        },
    )
    assert response.status_code == 302
    with service_context():
        assert HeartbeatCheck.objects.get(name="Certificate renewal").organization_id is None
    assert client.get(f"/ops/heartbeats/{checks.bloom.pk}/").status_code == 200


def test_jobs_page_shows_each_beat_job_with_its_last_run_and_a_stale_banner(client, world):
    now = timezone.now()
    with service_context():
        JobRun.objects.create(
            job="heartbeats-evaluate-checks",
            task="heartbeats.tasks.evaluate_checks",
            started_at=now - dt.timedelta(seconds=20),
            finished_at=now,
            duration_ms=12.5,
            outcome="success",
            rows_handled=3,
            result={"late": 3},
        )
        JobRun.objects.create(
            job="alerts-evaluate-rules",
            task="alerts.tasks.evaluate_rules",
            started_at=now - 10 * H,
            finished_at=now - 10 * H,
            duration_ms=40,
            outcome="success",
        )
    client.force_login(world.staff)
    body = client.get("/ops/jobs/").content.decode()
    assert "heartbeats-evaluate-checks" in body and "alerts-evaluate-rules" in body and "incidents-escalate-due" in body
    assert "stale: is Celery beat running?" in body
    detail = client.get("/ops/jobs/heartbeats-evaluate-checks/")
    assert detail.status_code == 200 and 'id="job-runs-chart"' in detail.content.decode()
    assert client.get("/ops/jobs/no-such-job/").status_code == 404


@pytest.mark.parametrize("model", ["heartbeatcheck", "heartbeatping", "heartbeatflip", "jobrun"])
def test_admin_lists_open_for_staff_and_show_vendors_nothing(client, checks, model):
    checks.staff.is_superuser = True
    checks.staff.save()
    client.force_login(checks.staff)
    response = client.get(f"/admin/heartbeats/{model}/")
    assert response.status_code == 200
    client.force_login(checks.alice)
    assert client.get(f"/admin/heartbeats/{model}/").status_code == 302


def test_admin_adds_a_check_through_the_services_and_refuses_a_bad_cron(client, checks):
    checks.staff.is_superuser = True
    checks.staff.save()
    client.force_login(checks.staff)
    data = {
        "name": "Admin made",
        "kind": "cron",
        "cron": "99 * * * *",
        "timezone": "UTC",
        "period_s": "86400",
        "grace_s": "3600",
        "severity": "warning",
        "priority": "high",
    }
    response = client.post("/admin/heartbeats/heartbeatcheck/add/", data)
    assert response.status_code == 200 and "not a valid cron expression" in response.content.decode()
    data["cron"] = "0 4 * * *"
    assert client.post("/admin/heartbeats/heartbeatcheck/add/", data).status_code == 302
    with service_context():
        made = HeartbeatCheck.objects.get(name="Admin made")
    assert made.status == "new" and made.created_by_id == checks.staff.pk
