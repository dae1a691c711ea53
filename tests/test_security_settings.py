"""Logins, anonymous endpoints and production settings (issue 13, items 2 and 5).

Login throttling (django-axes) on both login pages; /metrics closed by default with one label value
for unknown methods; the OpenAPI document behind a login; a Content-Security-Policy without inline
script or style; production refuses the default SECRET_KEY and missing FIELD_ENCRYPTION_KEYS
(``check --deploy`` is tests/test_deploy_check.py's); apm_metrics partitions have forced RLS and the
function that creates them is not PUBLIC's.
"""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import DatabaseError, connection

from apm import conf as apm_conf
from apm.middleware import REQUEST_DURATION
from wedsync_ops.tenancy.context import service_context, vendor_context


@pytest.fixture(autouse=True)
def fresh_lockouts(db):
    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_the_41st_password_is_refused_even_when_right_and_staff_unlock_it(client, world, path):
    world.staff.is_superuser = True
    world.staff.save()
    for attempt in range(40):
        response = client.post(path, {"username": "staff", "password": f"wrong-{attempt}"})
        assert response.status_code in (200, 429)
    locked = client.post(path, {"username": "staff", "password": "pw-staff-123"})
    assert locked.status_code == 429 and b"Too many failed logins" in locked.content
    assert "_auth_user_id" not in client.session
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("ops2", password="pw-ops2-123", is_staff=True)
    other = client.post(path, {"username": "ops2", "password": "pw-ops2-123"})  # another user: not locked
    assert other.status_code == 302
    client.logout()
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.filter(username="staff").exists()  # listed in the admin (Axes → Access attempts)
    AccessAttempt.objects.filter(username="staff").delete()  # what the admin's delete action does
    assert client.post(path, {"username": "staff", "password": "pw-staff-123"}).status_code == 302


def test_metrics_needs_its_token_by_default(client, db, monkeypatch):
    monkeypatch.setattr(apm_conf, "APM_METRICS_TOKEN", None)  # not configured
    assert client.get("/metrics").status_code == 403
    monkeypatch.setattr(apm_conf, "APM_METRICS_TOKEN", "tok-9")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer tok-9").status_code == 200


def test_unknown_http_methods_collapse_into_one_label_value(client, db):
    for method in ("BREW", "X-FOO-1", "PROPFIND", "get"):
        client.generic(method, "/accounts/login/")
    methods = {sample.labels["method"] for metric in REQUEST_DURATION.collect() for sample in metric.samples}
    assert "other" in methods and not methods & {"BREW", "X-FOO-1", "PROPFIND", "get"}


def test_the_openapi_document_needs_a_login(client, world):
    assert settings.API_SCHEMA_PUBLIC is False
    assert client.get("/api/schema/").status_code in (401, 403)
    client.force_login(world.alice)
    assert client.get("/api/schema/").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/accounts/login/", "/ops/saturday/", "/ops/db/", "/org/rosewood-florals/", "/ops/incidents/reports/", "/admin/"],
)
def test_pages_send_a_csp_without_inline_script_or_style(client, world, path):
    client.force_login(world.staff if path.startswith(("/ops", "/admin")) else world.alice)
    if path == "/accounts/login/":
        client.logout()
    response = client.get(path)
    assert response.status_code == 200, path
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and response["X-Frame-Options"] == "DENY"
    html = response.content.decode()
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, path  # no inline script
    assert "<style" not in html and " style=" not in html and not re.search(r"\son[a-z]+=", html), path


def _production_env(**overrides):
    env = dict(
        os.environ,
        DEBUG="false",
        SECRET_KEY="x" * 60 + "-a-long-random-production-key",
        FIELD_ENCRYPTION_KEYS="kXRv8Cgd5O0ZtlpxFzQwaHxK0x2Nh6G3z1t8VcNqYJE=",
        ALLOWED_HOSTS="ops.example.com",
        REQUIRE_SECRET_KEY="true",
    )
    env.update(overrides)
    return env


def _manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_starts_with_its_keys():
    result = _manage("check", env=_production_env())
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_its_keys(missing):
    # Set empty rather than removed: the checkout's .env would otherwise fill them in.
    result = _manage("check", env=_production_env(**{missing: ""}))
    assert result.returncode != 0 and missing in result.stderr


def test_every_metrics_partition_has_forced_rls_now_and_later(world):
    with service_context(), connection.cursor() as cur:
        cur.execute("SELECT apm_ensure_metric_partitions('2029-01-01', '2029-01-02')")
        cur.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            " (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)"
            " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'apm_metrics'::regclass"
        )
        rows = cur.fetchall()
    assert {"apm_metrics_20290101", "apm_metrics_20290102"} <= {r[0] for r in rows}
    assert [r[0] for r in rows if not (r[1] and r[2] and r[3])] == []


def test_the_partition_function_is_not_publics_and_needs_a_platform_context(world):
    with connection.cursor() as cur:
        cur.execute("SELECT has_function_privilege('public', 'apm_ensure_metric_partitions(date, date)', 'EXECUTE')")
        assert cur.fetchone()[0] is False
    with pytest.raises(DatabaseError, match="staff or service context"):
        with vendor_context(world.org_a.id), connection.cursor() as cur:
            cur.execute("SELECT apm_ensure_metric_partitions('2029-02-01', '2029-02-01')")
