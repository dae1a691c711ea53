"""Test setup: the test database is created and migrated by the owner role; tests run as the application role.

Superusers and table owners bypass row-level security, so every test
connects as the application role (NOSUPERUSER, NOBYPASSRLS, owns nothing)
and must set a tenant context to see rows, exactly like the portal.
"""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections

from wedsync_ops.tenancy.context import service_context


def _use_role(db_settings: dict) -> None:
    for target in (settings.DATABASES["default"], connections["default"].settings_dict):
        target["USER"] = db_settings["USER"]
        target["PASSWORD"] = db_settings.get("PASSWORD", "")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Create and migrate the test database as the owner role.

    ``WEDSYNC_TEST_DB`` names the test database (default ``test_wedsync``),
    so that several test runs can share one PostgreSQL server.
    """
    import os

    _use_role(settings.DATABASE_OWNER)
    name = os.environ.get("WEDSYNC_TEST_DB")
    if name:
        for target in (settings.DATABASES["default"], connections["default"].settings_dict):
            target.setdefault("TEST", {})["NAME"] = name


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After migrating as owner, reconnect every test as the application role."""
    conn = connections["default"]
    with django_db_blocker.unblock():
        with conn.cursor() as cur:
            # Test-only: transactional tests end with a flush (TRUNCATE).
            cur.execute(
                "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
            )
            for (table,) in cur.fetchall():
                cur.execute(f'GRANT TRUNCATE ON public.{table} TO "{settings.DB_APP_ROLE}"')
        conn.close()
    _use_role(settings.DATABASE_APP)
    with django_db_blocker.unblock():
        with conn.cursor() as cur:
            cur.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            user, is_super, bypass = cur.fetchone()
        assert user == settings.DB_APP_ROLE and not is_super and not bypass, (user, is_super, bypass)
    yield
    conn.close()
    _use_role(settings.DATABASE_OWNER)


def redis_db_url(db: int) -> str:
    """``settings.REDIS_URL``'s server with database ``db``: tests keep to their own Redis databases.

    Several checkouts can run their suites at once on one machine by giving
    each its own ``REDIS_URL`` (another port) in ``.env``.
    """
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


TEST_BROKER = redis_db_url(15)
LOCAL_RECEIVERS = "127.0.0.1/32"


@pytest.fixture(scope="session", autouse=True)
def test_settings():
    """Session-wide test settings: a private Redis database as the broker, a fast password hasher, no sampling.

    Tasks queued by transactional tests go to Redis database 15, which only
    the end-to-end test's worker reads, never a developer's ``make run`` worker.
    """
    from wedsync_ops.celery import app

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The tests' local receivers listen on 127.0.0.1: the outbound client may reach that one address
    # (wedsync_ops/outbound.py); tests of the refusals set these lists themselves.
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = [LOCAL_RECEIVERS]
    settings.OUTBOUND_VENDOR_ALLOW_PRIVATE_NETWORKS = [LOCAL_RECEIVERS]
    import os

    for name in ("OUTBOUND_ALLOW_PRIVATE_NETWORKS", "OUTBOUND_VENDOR_ALLOW_PRIVATE_NETWORKS"):  # started processes too
        os.environ[name] = LOCAL_RECEIVERS
    # The portal's self-metrics sampling is random and writes from a thread:
    # off by default in tests (tests/test_apm_self_metrics.py turns it on).
    from apm import conf as apm_conf

    apm_conf.APM_SELF_SAMPLE_RATE = 0.0
    previous = app.conf.broker_url
    _switch_broker(app, TEST_BROKER)
    yield
    _switch_broker(app, previous)


@pytest.fixture(autouse=True)
def _metric_points_end_with_their_test(request, django_db_blocker):
    """``apm_metrics`` and ``apm_metric_histograms`` are not Django-managed (partitioned, apm/models.py), so
    the flush that ends a transactional test leaves their points behind, pointing at organizations the flush
    removed (and a later ``aggregate_metrics`` fails on the foreign key). Truncate them after such a test;
    every other test rolls back."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = {"transactional_db", "live_server", "django_db_reset_sequences"} & set(request.fixturenames)
    if not transactional and not (marker and marker.kwargs.get("transaction")):
        return
    with django_db_blocker.unblock():
        with connections["default"].cursor() as cur:
            cur.execute("TRUNCATE apm_metrics, apm_metric_histograms")


def _switch_broker(app, url: str) -> None:
    """Point the Celery app at ``url``, dropping pooled connections to the old broker."""
    app.conf.broker_url = url
    # Drop (without closing: kombu shares pools per address) the cached
    # connection and producer pools so the next publish uses the new URL.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def as_service():
    """A context manager: ``with as_service(): …`` runs a block in the service context."""
    return service_context


class World:
    """Two organizations with their people, as the tests' cast.

    ``org_a`` (rosewood-florals, Europe/London) with ``alice`` (admin);
    ``org_b`` (bloom-and-vine, Australia/Sydney) with ``bob`` (member);
    ``staff`` (is_staff). ``charlie`` is logged in but belongs to no organization.
    """


@pytest.fixture
def world(db):
    from wedsync_ops.tenancy.models import Organization, UserProfile

    User = get_user_model()
    w = World()
    with service_context():
        w.org_a = Organization.objects.create(
            slug="rosewood-florals", name="Rosewood Florals", timezone="Europe/London"
        )
        w.org_b = Organization.objects.create(slug="bloom-and-vine", name="Bloom & Vine", timezone="Australia/Sydney")
        w.staff = User.objects.create_user("staff", "staff@example.com", "pw-staff-123", is_staff=True)
        w.alice = User.objects.create_user("alice", "alice@example.com", "pw-alice-123")
        w.bob = User.objects.create_user("bob", "bob@example.com", "pw-bob-123")
        w.charlie = User.objects.create_user("charlie", "charlie@example.com", "pw-charlie-123")
        UserProfile.objects.create(user=w.alice, organization=w.org_a, role=UserProfile.Role.ADMIN)
        UserProfile.objects.create(user=w.bob, organization=w.org_b, role=UserProfile.Role.MEMBER)
    return w


# Payloads captured from real tools (tests/samples/README.md), used as they are.
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"

SATURDAY = dt.datetime(2026, 6, 13, 12, 0, tzinfo=dt.UTC)  # a Saturday everywhere from UTC-12 to UTC+11
WEDNESDAY = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)


class Receiver:
    """What the local HTTP receiver got: ``requests`` (path, headers, body bytes) in order.

    ``statuses``: the answers, in order (then 200): a status, or ``(status, body)`` to
    answer a body of the receiver's own (e.g. Slack's ``channel_not_found``); ``gate``: a
    ``threading.Event`` that holds each answer until set; ``url``: its base URL.
    """

    def __init__(self):
        self.requests, self.statuses, self.gate, self.url = [], [], None, ""

    @property
    def bodies(self) -> list:
        return [json.loads(r["body"]) for r in self.requests]

    def json(self, index: int = -1):
        return json.loads(self.requests[index]["body"])


class _ReceiverHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if receiver.gate is not None:
            receiver.gate.wait(timeout=5)
        answer = receiver.statuses.pop(0) if receiver.statuses else 200
        status, body = answer if isinstance(answer, tuple) else (answer, None)
        if body is None:
            body = "ok" if status < 300 else f"error {status}"
        body = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if body[:1] in (b"{", b"[") else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    """A real HTTP server on a loopback port that records every POST (the outside world, never mocked)."""
    rec = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ReceiverHandler)
    server.daemon_threads = True
    server.receiver = rec
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield rec
    if rec.gate is not None:
        rec.gate.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real Celery worker (a subprocess, ``--pool=solo``) on the test broker, connected as the application role.

    ``NOTIFY_*`` settings of the test process are passed on, so a test can shorten the worker's timeouts.
    """
    import os
    import subprocess
    import sys

    import redis

    redis.Redis.from_url(TEST_BROKER).flushdb()
    db = connections["default"].settings_dict
    env = dict(
        os.environ,
        DATABASE_URL=(
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        CELERY_BROKER_URL=TEST_BROKER,
        CONN_MAX_AGE="0",
        NOTIFY_HTTP_TIMEOUT_S=str(settings.NOTIFY_HTTP_TIMEOUT_S),
        OUTBOUND_ALLOW_PRIVATE_NETWORKS=",".join(settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS),
        OUTBOUND_VENDOR_ALLOW_PRIVATE_NETWORKS=",".join(settings.OUTBOUND_VENDOR_ALLOW_PRIVATE_NETWORKS),
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wedsync_ops",
            "worker",
            "-Q",
            "critical,default,metrics,maintenance",  # every queue (wedsync_ops/queues.py)
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


class _Inbox:
    """What the local SMTP server received: ``messages`` (aiosmtpd envelopes); ``@refused.example`` is refused."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(envelope)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.endswith("@refused.example"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def smtp(settings):
    """A real SMTP server (aiosmtpd) on a loopback port, and Django's email settings pointing at it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "ops@wedsync.example"
    yield inbox
    controller.stop()


PRIYA_SMS = "+447700900123"


@pytest.fixture
def paging(world, receiver, smtp, settings, monkeypatch):
    """On-call paging against local servers: Priya and Marcus (staff) take weekly turns on 'Platform primary'
    (Priya's week from Monday 8 June 2026), and the platform policy pages its on-call person after 5 min.

    Twilio (account AC123, token "tok") and Slack's Web API point at ``receiver``, email at ``smtp``;
    links start with ``http://portal.test``.
    """
    from notifications import conf as notify_conf
    from tests.factories import make_person, make_policy, make_schedule

    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC123", "tok"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.SLACK_BOT_TOKEN = "xoxb-test"
    settings.PORTAL_BASE_URL = "http://portal.test"
    monkeypatch.setattr(notify_conf, "TWILIO_API_BASE_URL", receiver.url + "/twilio")
    monkeypatch.setattr(notify_conf, "SLACK_API_BASE_URL", receiver.url + "/slack")
    w = world
    w.receiver, w.smtp = receiver, smtp
    w.priya = make_person(
        "priya",
        first_name="Priya",
        last_name="Shah",
        methods={"email": "priya@ops.example", "sms": PRIYA_SMS, "voice": PRIYA_SMS, "slack": "U0PRIYA01"},
        rules=[("sms", 0), ("email", 0), ("voice", 3)],
        wedding_rules=[("voice", 0), ("slack", 0)],
    )
    w.marcus = make_person("marcus", first_name="Marcus", methods={"email": "marcus@ops.example"})
    w.schedule = make_schedule(
        "Platform primary",
        layers=[
            dict(
                name="Weekdays",
                position=1,
                starts_on=dt.date(2026, 6, 8),
                handoff_time=dt.time(9),
                period_unit="week",
                participants=[w.priya, w.marcus],
            )
        ],
    )
    w.policy = make_policy("Platform escalation", steps=[dict(wait_minutes=5, target="schedule", schedule=w.schedule)])
    return w
