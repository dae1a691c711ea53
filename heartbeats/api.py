"""The ping API, compatible with healthchecks.io's (``hc/api/views.py`` ``ping``) so scripts only change the base URL.

``GET|POST|HEAD /ping/<uuid>`` (success), ``/ping/<uuid>/start``,
``/ping/<uuid>/fail``, ``/ping/<uuid>/log``, ``/ping/<uuid>/<exit-status>``
(0 success, 1–255 fail, larger: 400 ``invalid url format``); optional
``?rid=<uuid>`` pairs a start with its end (400 ``invalid uuid format``
otherwise). No login, no CSRF. Answers ``OK`` (text/plain) with
``Ping-Body-Limit`` and ``Access-Control-Allow-Origin: *``; an unknown uuid
answers 404 ``not found`` and stores nothing; more than
``HEARTBEAT_PING_RATE_PER_MINUTE`` pings of one check a minute answer 429
with ``Retry-After`` and store nothing. The first ``HEARTBEAT_PING_BODY_LIMIT``
bytes of the body are kept as the ping's log.
"""

from __future__ import annotations

import ipaddress
import uuid

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from wedsync_ops.tenancy.context import service_context

from . import conf
from .models import HeartbeatCheck, HeartbeatPing
from .ratelimit import ping_rate_check
from .services import ping_record


def _text(body: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _remote_addr(request) -> str | None:
    """The client address as healthchecks.io reads it: X-Forwarded-For's first entry, else REMOTE_ADDR."""
    raw = request.META.get("HTTP_X_FORWARDED_FOR") or request.META.get("REMOTE_ADDR") or ""
    candidate = raw.split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


@csrf_exempt
@never_cache
def ping(request, code: uuid.UUID, action: str = "success", exit_status: int | None = None):
    """Record a ping of the check whose ping uuid is ``code``; see the module docstring for the answers."""
    if exit_status is not None and exit_status > 255:
        return _text("invalid url format", 400)
    rid = None
    if "rid" in request.GET:
        try:
            rid = uuid.UUID(request.GET["rid"])
        except ValueError:
            return _text("invalid uuid format", 400)
    kind = action
    if exit_status is not None and exit_status > 0:
        kind = HeartbeatPing.Kind.FAIL
    with service_context():
        check = HeartbeatCheck.objects.filter(ping_uuid=code, watchdog_integration__isnull=True).first()
        if check is None:
            return _text("not found", 404)
        wait = ping_rate_check(ping_uuid=code)
        if wait:
            response = _text(f"rate limit of {conf.PING_RATE_PER_MINUTE} pings per minute exceeded", 429)
            response["Retry-After"] = str(wait)
            return response
        ping_record(
            check=check,
            kind=kind,
            now=timezone.now(),
            exit_status=exit_status,
            body=request.body,
            method=request.method,
            scheme=request.scheme,
            remote_addr=_remote_addr(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            rid=rid,
        )
    response = _text("OK")
    response["Ping-Body-Limit"] = str(conf.PING_BODY_LIMIT)
    return response


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other ``/ping/…`` path (a malformed uuid): 404 ``not found``, as healthchecks.io."""
    return _text("not found", 404)
