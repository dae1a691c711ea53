"""PgBouncer in transaction pooling mode in front of PostgreSQL: the per-transaction tenant context holds there.

A real PgBouncer (Debian's ``pgbouncer``, 1.18: no prepared statements in
transaction mode) is started on a free port with its own configuration in a
temporary directory, pooling the test database with ONE server connection, so
every client transaction shares the same PostgreSQL session. Everything below
connects through it as the application role. The shared PostgreSQL is only
connected to, never reconfigured.
"""

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import connection

from alerts.services import integration_create
from apm.services import api_key_create
from notifications.models import NotificationChannel, NotificationDelivery
from tests.conftest import SAMPLES_DIR
from tests.factories import make_user_token
from tests.processes import (
    app_env,
    database_url,
    free_port,
    serving,
    start_gunicorn,
    start_worker,
    stop,
    wait_until,
)
from wedsync_ops.tenancy.context import service_context

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
pytestmark = pytest.mark.slow


@pytest.fixture
def pgbouncer(transactional_db):
    """A PgBouncer on 127.0.0.1:<free port>, pool_mode=transaction, default_pool_size=1; yields its port."""
    db = connection.settings_dict
    app_user, app_password = settings.DATABASE_APP["USER"], settings.DATABASE_APP["PASSWORD"]
    work = Path(tempfile.mkdtemp(prefix="wedsync-pgbouncer-"))
    port = free_port()
    (work / "userlist.txt").write_text(f'"{app_user}" "{app_password}"\n')
    (work / "pgbouncer.ini").write_text(f"""
[databases]
{db["NAME"]} = host={db["HOST"] or "127.0.0.1"} port={db["PORT"] or 5432} dbname={db["NAME"]}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir = {work}
auth_type = trust
auth_file = {work}/userlist.txt
pool_mode = transaction
default_pool_size = 1
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
logfile = {work}/pgbouncer.log
pidfile = {work}/pgbouncer.pid
""")
    args = [PGBOUNCER, "-q", str(work / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        account = pwd.getpwnam("postgres")
        for path in [work, *work.iterdir()]:
            os.chown(path, account.pw_uid, account.pw_gid)
        args[1:1] = ["-u", "postgres"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)

    def answers():
        try:
            with psycopg.connect(_url(port), connect_timeout=1) as conn:
                return conn.execute("SELECT 1").fetchone() == (1,)
        except psycopg.OperationalError:
            return False

    with serving(proc, ready=answers, what="pgbouncer", timeout=15, workdir=work):
        yield port


def _url(port: int) -> str:
    return database_url(port=port, host="127.0.0.1")


def _connect(port: int, **kwargs):
    """A client connection through PgBouncer configured as the portal's (no prepared statements), autocommit:
    each ``conn.transaction()`` is then a transaction of its own (BEGIN … COMMIT), as a request's."""
    return psycopg.connect(_url(port), autocommit=True, prepare_threshold=None, **kwargs)


def _vendor_slugs(conn, org_id) -> set[str]:
    with conn.transaction():
        conn.execute("SELECT set_config('app.role', 'vendor', true), set_config('app.org_id', %s, true)", [str(org_id)])
        return {slug for (slug,) in conn.execute("SELECT slug FROM organizations")}


def _unscoped_count(conn) -> int:
    with conn.transaction():
        return conn.execute("SELECT count(*) FROM organizations").fetchone()[0]


def test_no_context_sees_no_rows_through_pgbouncer(world, pgbouncer):
    with _connect(pgbouncer) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (settings.DB_APP_ROLE,)
        assert _unscoped_count(conn) == 0
        assert _vendor_slugs(conn, world.org_a.id) == {"rosewood-florals"}
        assert _unscoped_count(conn) == 0  # the context ended with its transaction


def test_interleaved_transactions_of_two_organizations_never_see_each_others_rows(world, pgbouncer):
    with _connect(pgbouncer) as a, _connect(pgbouncer) as b:
        with a.transaction():
            backend_a = a.execute("SELECT pg_backend_pid()").fetchone()[0]
        with b.transaction():
            backend_b = b.execute("SELECT pg_backend_pid()").fetchone()[0]
        assert backend_a == backend_b  # one server session carries both clients' transactions
        for _ in range(20):
            assert _vendor_slugs(a, world.org_a.id) == {"rosewood-florals"}
            assert _unscoped_count(b) == 0
            assert _vendor_slugs(b, world.org_b.id) == {"bloom-and-vine"}
            assert _unscoped_count(a) == 0


def test_psycopg_prepared_statements_break_through_pgbouncer_which_is_why_the_portal_turns_them_off(pgbouncer):
    assert connection.settings_dict["OPTIONS"]["prepare_threshold"] is None
    with psycopg.connect(_url(pgbouncer), autocommit=True) as a, psycopg.connect(_url(pgbouncer), autocommit=True) as b:
        with pytest.raises(psycopg.errors.DuplicatePreparedStatement):
            for _ in range(10):  # psycopg prepares a statement on its 5th execution (prepare_threshold=5)
                a.execute("SELECT %s::int", [1])
                b.execute("SELECT %s::int", [1])


def test_the_portal_through_pgbouncer_alertmanager_to_incident_to_delivery(world, pgbouncer, receiver, tmp_path):
    """gunicorn and a worker connect through PgBouncer (DATABASE_TRANSACTION_POOLING=true): the Alertmanager path,
    metrics ingest (temporary staging tables), and two vendors' requests interleaved on one server session."""
    with service_context():
        _integration, am_token = integration_create(kind="alertmanager", name="prod", organization_id=None)
        NotificationChannel.objects.create(kind="webhook", name="ops hook", config={"url": f"{receiver.url}/hook"})
        _key, api_key = api_key_create(organization=world.org_a, name="ingest")
        alice, bob = (make_user_token(world.alice), make_user_token(world.bob))
    env = app_env(DATABASE_URL=_url(pgbouncer), DATABASE_TRANSACTION_POOLING="true", CONN_MAX_AGE="60")
    port = free_port()
    web = start_gunicorn(env, port=port, workers=2, log_path=tmp_path / "web.log")
    worker = start_worker(env, queues="critical", name="critical", log_path=tmp_path / "worker.log")
    url = f"http://127.0.0.1:{port}"
    try:
        ready = requests.get(f"{url}/health/ready", timeout=10).json()
        assert ready["checks"]["database"]["status"] == "ok", ready
        firing = (SAMPLES_DIR / "alertmanager/captured-0.25-firing.json").read_bytes()
        posted = requests.post(
            f"{url}/api/v1/integrations/alertmanager/",
            data=firing,
            timeout=10,
            headers={"Authorization": f"Bearer {am_token}", "Content-Type": "application/json"},
        )
        assert posted.status_code == 200 and posted.json()["created"] == 1, posted.text
        events = wait_until(
            lambda: len(receiver.requests) >= 2 and sorted(b["event"] for b in receiver.bodies),
            timeout=60,
            what="both deliveries",
            proc=worker,
        )
        assert events == ["alert.firing", "incident.opened"]

        for i in range(8):  # more than psycopg's prepare threshold (5) of the same statements
            metrics = {"metrics": [{"service": "payments", "name": "http.request.duration_ms", "value": 100.0 + i}]}
            ingest = requests.post(
                f"{url}/api/v1/metrics/",
                data=json.dumps(metrics),
                timeout=10,
                headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            )
            assert ingest.status_code == 202 and ingest.json()["accepted"] == 1, ingest.text

        def incidents_of(token):
            response = requests.get(f"{url}/api/v1/incidents/", headers={"Authorization": f"Token {token}"}, timeout=10)
            assert response.status_code == 200, response.text
            return {item["organization"] for item in response.json()["results"]}

        for _ in range(5):  # two vendors' requests alternating on the one server session
            assert incidents_of(alice) == {"rosewood-florals"}
            assert incidents_of(bob) == set()
    finally:
        stop(worker)
        stop(web)
    with service_context():
        assert NotificationDelivery.objects.filter(status="delivered").count() == 2
        from apm.models import ApmMetric

        assert ApmMetric.objects.filter(organization=world.org_a).count() == 8
    assert "prepared statement" not in (tmp_path / "web.log").read_text()
