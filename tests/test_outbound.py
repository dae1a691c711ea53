"""Outbound requests cannot reach the platform's own network (issue 13, item 1).

The corpus is ``tests/hostile/urls.json``: every URL there is refused by the outbound client, by the
vendor channel form and at delivery time, and no request reaches a loopback listener. DNS is the
outside world: the rebinding tests stand a resolver stub in for it (``socket.getaddrinfo``).
"""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from notifications.delivery import channel_send_test
from notifications.models import DeliveryAttempt, DeliveryAttemptDetail, NotificationChannel
from wedsync_ops.outbound import OutboundRefused, outbound_request, outbound_url_problem
from wedsync_ops.tenancy.context import service_context, vendor_context

CORPUS = json.loads((Path(__file__).parent / "hostile" / "urls.json").read_text())
CHANNELS = "/org/rosewood-florals/alerts/channels/"


def _corpus(port: int) -> list[str]:
    return [u.format(port=port, hostname=socket.gethostname()) for u in CORPUS["refused"]]


@pytest.fixture
def no_private(settings):
    """Production's lists: nothing but public addresses, for staff and vendors alike."""
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = []
    settings.OUTBOUND_VENDOR_ALLOW_PRIVATE_NETWORKS = []


class _Listener:
    """A loopback HTTP server that records every request of any method (and the Host header)."""

    def __init__(self, address="127.0.0.1", status=200, headers=None, body=b"ok"):
        self.requests = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                listener.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "host": self.headers["Host"],
                        "body": self.rfile.read(length),
                    }
                )
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _answer  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{address}:{self.port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    server = _Listener()
    yield server
    server.close()


def test_every_corpus_url_is_refused_by_the_check_the_forms_use(no_private, listener):
    for url in _corpus(listener.port):
        for trusted in (False, True):
            assert outbound_url_problem(url, trusted=trusted), (url, trusted)
    assert [u for u in CORPUS["accepted"] if outbound_url_problem(u, trusted=False)] == []


def test_the_client_refuses_every_corpus_url_and_nothing_reaches_the_listener(no_private, listener):
    for url in _corpus(listener.port):
        with pytest.raises(requests.RequestException):
            outbound_request("POST", url, timeout=2, trusted=True, json={"probe": url})
    assert listener.requests == []


def test_the_vendor_form_refuses_every_corpus_url_with_400_naming_the_target(client, world, no_private, listener):
    client.force_login(world.alice)
    for url in _corpus(listener.port):
        for kind in ("webhook", "slack"):
            response = client.post(CHANNELS, {"action": "create", "name": "x", "kind": kind, "target": url})
            assert response.status_code == 400, url
            assert b"target" in response.content
    with service_context():
        assert NotificationChannel.objects.count() == 0
    assert listener.requests == []


def test_a_vendor_channel_written_around_the_form_is_refused_at_send_time_with_a_fixed_reason(
    world, no_private, listener
):
    url = f"https://127.0.0.1:{listener.port}\\@hooks.slack.com/x"
    with service_context():
        channel = NotificationChannel.objects.create(
            organization=world.org_a, kind="webhook", name="sneaky", config={"url": url}
        )
    ok, message = channel_send_test(channel=channel, now=timezone.now(), organization_slug="rosewood-florals")
    assert not ok and "backslash" in message
    assert listener.requests == []
    with vendor_context(world.org_a.id):
        attempt = DeliveryAttempt.objects.get()
    assert not attempt.ok and attempt.status_code is None


def test_loopback_is_reached_only_through_the_allowed_networks_and_never_by_vendors(settings, world, listener):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    settings.OUTBOUND_VENDOR_ALLOW_PRIVATE_NETWORKS = []
    assert outbound_request("GET", listener.url + "/staff", timeout=2, trusted=True).status_code == 200
    with pytest.raises(OutboundRefused, match="loopback"):
        outbound_request("GET", listener.url + "/vendor", timeout=2, trusted=False)
    with service_context():
        platform = NotificationChannel.objects.create(kind="webhook", name="ops", config={"url": listener.url})
        vendor = NotificationChannel.objects.create(
            organization=world.org_a, kind="webhook", name="shop", config={"url": listener.url}
        )
    assert channel_send_test(channel=platform, now=timezone.now())[0] is True
    assert channel_send_test(channel=vendor, now=timezone.now())[0] is False
    assert [r["path"] for r in listener.requests] == ["/staff", "/"]


def _resolver_stub(monkeypatch, answers: list[list[str]]):
    """Stand in for DNS: ``rebind.example`` answers ``answers[0]``, then ``answers[1]``, …; counts the calls."""
    real = socket.getaddrinfo
    calls = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "rebind.example":
            return real(host, port, *args, **kwargs)
        addresses = answers[min(len(calls), len(answers) - 1)]
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


def test_dns_rebinding_connects_to_the_address_that_was_checked(settings, monkeypatch, listener):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    other = _Listener("127.0.0.2")  # what the second answer would reach: not allowed
    try:
        calls = _resolver_stub(monkeypatch, [["127.0.0.1"], ["127.0.0.2"]])
        url = f"http://rebind.example:{listener.port}/hook"
        assert outbound_request("POST", url, timeout=2, trusted=True, json={}).status_code == 200
        assert len(calls) == 1  # resolved once: the connection went to the address that was checked
        assert [r["host"] for r in listener.requests] == [f"rebind.example:{listener.port}"]
        with pytest.raises(OutboundRefused, match="127.0.0.2"):  # the next request checks the new answer
            outbound_request("POST", url, timeout=2, trusted=True, json={})
        assert len(calls) == 2
    finally:
        other.close()
    assert other.requests == []


def test_a_name_answering_a_refused_address_first_or_among_others_is_refused(settings, monkeypatch, listener):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    _resolver_stub(monkeypatch, [["127.0.0.2"], ["127.0.0.1", "10.0.0.1"]])
    for _ in range(2):
        with pytest.raises(OutboundRefused):
            outbound_request("GET", f"http://rebind.example:{listener.port}/", timeout=2, trusted=True)
    assert listener.requests == []


def test_redirects_are_not_followed(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    target = _Listener()
    mover = _Listener(status=302, headers={"Location": target.url + "/inside"})
    try:
        response = outbound_request("GET", mover.url + "/", timeout=2, trusted=True)
        assert response.status_code == 302 and target.requests == []
    finally:
        target.close()
        mover.close()


def test_the_body_read_is_bounded(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    settings.OUTBOUND_MAX_RESPONSE_BYTES = 1000
    big = _Listener(body=b"x" * 200_000)
    try:
        assert len(outbound_request("GET", big.url, timeout=2, trusted=True).content) == 1000
    finally:
        big.close()


def test_vendors_never_see_the_receivers_answer_staff_do(client, world, settings, receiver):
    secret = "internal-stack-trace-and-a-token-abc123"
    receiver.statuses = [(404, secret), (410, secret)]
    with service_context():
        channel = NotificationChannel.objects.create(
            organization=world.org_a, kind="webhook", name="shop", config={"url": receiver.url}
        )
    for _ in range(2):
        ok, message = channel_send_test(channel=channel, now=timezone.now(), organization_slug="rosewood-florals")
        assert not ok and secret not in message
    from notifications.delivery import delivery_send  # a real delivery disables the channel on the 410
    from notifications.models import NotificationDelivery

    receiver.statuses = [(410, secret)]
    with service_context():
        delivery = NotificationDelivery.objects.create(
            organization=world.org_a, channel=channel, event="alert.firing", payload={"title": "x"}
        )
    delivery_send(delivery_id=delivery.pk, now=timezone.now())
    with vendor_context(world.org_a.id):
        channel.refresh_from_db()
        visible = [a.error for a in DeliveryAttempt.objects.all()]
        visible += [d.last_error for d in channel.deliveries.all()] + [channel.disabled_reason]
        assert DeliveryAttemptDetail.objects.count() == 0  # staff-only rows
    assert channel.enabled is False and "410" in channel.disabled_reason
    assert all(secret not in text for text in visible)
    client.force_login(world.alice)
    assert secret.encode() not in client.get(CHANNELS).content
    with service_context():
        assert DeliveryAttemptDetail.objects.filter(response_body=secret).count() == 3
    world.staff.is_superuser = True
    world.staff.save()
    client.force_login(world.staff)
    assert secret.encode() in client.get("/admin/notifications/deliveryattempt/").content


def test_health_checks_and_provider_polls_go_through_the_same_client(no_private, world, listener):
    from apm.models import ApmConfiguration
    from apm.providers import ProviderError, poll_custom
    from apm.services import health_check_probe

    class Check:
        method, url, timeout_seconds, expected_status = "GET", listener.url + "/health", 2, 200

    result = health_check_probe(check=Check)
    assert not result.ok and "loopback" in result.error
    config = ApmConfiguration(
        organization=world.org_a, name="x", provider="custom", base_url=listener.url, service="svc", timeout_seconds=2
    )
    with pytest.raises(ProviderError, match="refused"):
        poll_custom(config, {}, now=timezone.now())
    assert listener.requests == []
