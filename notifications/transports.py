"""Outbound notification transports: one class per channel kind (healthchecks ``hc/api/transports.py`` style).

``TRANSPORTS`` maps a ``NotificationChannel.kind`` to its transport class. A transport is built with its
channel and has ``send(payload, key=…) -> dict`` (the response info ``{"status_code": int | None,
"body": str}``, body cut to 500 characters) and ``notify(delivery, key=…)`` (sends ``delivery.payload``).
``key`` is the delivery's idempotency key (``notifications.delivery.delivery_key``): every HTTP request
carries it as ``X-WedSync-Delivery`` and ``Idempotency-Key`` (Twilio reads ``I-Twilio-Idempotency-Token``).

A transport raises ``TransportError(message, permanent=…, status_code=…, reason=…)``. ``permanent``
only when the receiver's own documentation says the request can never succeed: HTTP 410 Gone from any
webhook; Slack's ``invalid_token``, ``channel_not_found``, ``channel_is_archived``, ``no_service``,
``no_team``, ``team_disabled``, ``action_prohibited`` (api.slack.com/messaging/webhooks#handling_errors);
PagerDuty Events v2 400 whose errors name the routing key (developer.pagerduty.com, "Events API v2 …
Response Codes"); Twilio 401 (error 20003, authentication) and 400 with error 21211 (invalid To) or
21606 (invalid From); SMTP recipients refused; a channel without a usable config. Everything else,
including other 4xx, is temporary and retried (``notifications.delivery``). ``message`` says what
happened without quoting the receiver; ``body`` is the receiver's answer (stored where only staff read
it); ``reason`` is a fixed text safe to show a vendor.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import requests
from django.conf import settings

USER_AGENT = "WedSync-Ops-Notifier/1.0"
SIGNATURE_HEADER = "X-WedSync-Signature"
DELIVERY_HEADER = "X-WedSync-Delivery"
BODY_EXCERPT_CHARS = 500
HTTP_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    410: "Gone",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class TransportError(Exception):
    """A failed send.

    ``message``: why, for the attempt log (never the receiver's body); ``permanent``: retrying cannot
    help; ``status_code``: the HTTP status or None; ``reason``: a fixed text for vendors (default: the
    status and its standard name, e.g. "HTTP 404 Not Found"); ``body``: what the receiver answered (at
    most 500 characters), kept where only staff read it (``notifications.models.DeliveryAttemptDetail``).
    """

    def __init__(
        self, message: str, permanent: bool = False, status_code: int | None = None, reason: str = "", body: str = ""
    ):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status_code = status_code
        self.body = body
        if not reason:
            reason = (
                f"HTTP {status_code} {HTTP_REASONS.get(status_code, '')}".strip()
                if status_code
                else "the receiver could not be reached"
                if not permanent
                else "the channel cannot work"
            )
        self.reason = reason


class Transport:
    """Base class: a transport for one channel (``self.channel``).

    ``trusted``: the channel is the platform's (no organization: staff configured it), so its target
    may be in ``OUTBOUND_ALLOW_PRIVATE_NETWORKS``; an organization's channel may reach public
    addresses only (``wedsync_ops.outbound``).
    """

    def __init__(self, channel):
        self.channel = channel
        self.trusted = getattr(channel, "organization_id", None) is None

    def notify(self, delivery, *, key: str) -> dict:
        """Send ``delivery.payload`` (a JSON-able dict). Returns the response info; raises TransportError."""
        return self.send(delivery.payload, key=key)

    def send(self, payload: dict, *, key: str) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


def http_post(url: str, *, key: str, trusted: bool, what: str = "webhook", **kwargs) -> requests.Response:
    """POST with the house rules; returns the response, or raises TransportError for what is never a success.

    Sent by the portal's one outbound client (``wedsync_ops.outbound.outbound_request``): the host is
    resolved once and must be public (``trusted``: a staff-configured target, which may also reach
    ``OUTBOUND_ALLOW_PRIVATE_NETWORKS``; a vendor's channel is ``trusted=False``), redirects are not
    followed. Timeout ``settings.NOTIFY_HTTP_TIMEOUT_S`` seconds (connect and read); headers
    ``X-WedSync-Delivery`` and ``Idempotency-Key`` carry ``key``. Timeouts and connection errors are
    temporary; a malformed or refused URL is permanent. Status handling is the caller's (``raise_for_status``).
    """
    from wedsync_ops.outbound import OutboundRefused, outbound_request

    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise TransportError(
            f"{what} channel has no valid http(s) url", permanent=True, reason="the channel has no valid URL"
        )
    headers = {"User-Agent": USER_AGENT, DELIVERY_HEADER: key, "Idempotency-Key": key, **kwargs.pop("headers", {})}
    try:
        return outbound_request(
            "POST", url, headers=headers, timeout=settings.NOTIFY_HTTP_TIMEOUT_S, trusted=trusted, **kwargs
        )
    except OutboundRefused as exc:
        raise TransportError(
            f"refused before sending: the URL {exc}", permanent=True, reason=f"the channel's URL {exc.reason}"
        ) from None
    except requests.exceptions.Timeout:
        raise TransportError(
            f"timed out after {settings.NOTIFY_HTTP_TIMEOUT_S:g} s", reason="the receiver did not answer in time"
        ) from None
    except requests.exceptions.ConnectionError as exc:
        raise TransportError(f"connection failed: {exc}", reason="the receiver could not be reached") from None
    except requests.exceptions.RequestException as exc:
        # Invalid URL, bad schema …: retrying cannot help.
        raise TransportError(
            f"request failed: {exc}", permanent=True, reason="the channel's URL is not usable"
        ) from None


def raise_for_status(response: requests.Response, *, permanent_if=lambda response: response.status_code == 410) -> dict:
    """``{"status_code", "body"}`` for a 2xx; else raise TransportError (temporary unless ``permanent_if``).

    A 3xx is a temporary error too (redirects are not followed: a receiver that moved says so with 410
    or 404, and a redirect to an internal address must never be followed).
    """
    code = response.status_code
    body = response.text[:BODY_EXCERPT_CHARS]
    if 200 <= code < 300:
        return {"status_code": code, "body": body}
    permanent = bool(permanent_if(response))
    raise TransportError(f"received HTTP {code}", permanent=permanent, status_code=code, body=body)


def signature_header(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the exact request body with the channel's secret (GitHub's scheme)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class Webhook(Transport):
    """Generic webhook: ``POST`` the payload as JSON to ``channel.config["url"]``.

    With ``config["secret"]`` the request carries ``X-WedSync-Signature: sha256=<hex HMAC-SHA256 of the
    body>``; always ``X-WedSync-Event: <event>`` and the delivery key headers. Receivers recompute the
    HMAC over the raw body bytes and compare in constant time. Only 410 Gone is permanent.
    """

    def send(self, payload: dict, *, key: str) -> dict:
        config = self.channel.config or {}
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
        headers = {"Content-Type": "application/json", "X-WedSync-Event": str(payload.get("event", ""))}
        secret = config.get("secret")
        if secret:
            headers[SIGNATURE_HEADER] = signature_header(str(secret), body)
        return raise_for_status(
            http_post(config.get("url"), key=key, trusted=self.trusted, what="webhook", data=body, headers=headers)
        )


def event_verb(payload: dict) -> str:
    """``FIRING``, ``RESOLVED``, ``OPENED``, ``ACKNOWLEDGED``, ``ESCALATED`` or ``TEST`` from ``payload["event"]``."""
    return str(payload.get("event", "")).rsplit(".", 1)[-1].upper() or "NOTIFICATION"


def one_line(payload: dict) -> str:
    """E.g. ``[FIRING] critical rosewood-florals: Checkout latency …``."""
    org = payload.get("organization") or "platform"
    return f"[{event_verb(payload)}] {payload.get('severity', '')} {org}: {payload.get('title', '')}"


SLACK_PERMANENT = {
    "invalid_token",
    "channel_not_found",
    "channel_is_archived",
    "no_service",
    "no_team",
    "team_disabled",
    "action_prohibited",
    "invalid_auth",
    "account_inactive",
}


SLACK_ACTION_ACKNOWLEDGE = "wedsync_acknowledge"
SLACK_ACTION_RESOLVE = "wedsync_resolve"


def slack_incident_actions(payload: dict) -> list[dict]:
    """Slack blocks with "Acknowledge" / "Resolve" buttons (and "Open") for an open incident's message.

    The buttons' ``action_id`` is ``SLACK_ACTION_ACKNOWLEDGE``/``SLACK_ACTION_RESOLVE`` and their
    ``value`` the incident id: Slack posts the click to the portal's interactivity URL (the on-call
    app verifies it and acts as the Slack user's portal user). Nothing for alerts without an
    incident, or for incidents already resolved.
    """
    incident_id = payload.get("id") if payload.get("kind") == "incident" else payload.get("incident_id")
    event = str(payload.get("event", ""))
    if not incident_id or event.endswith(("resolved", "test")) or payload.get("status") in ("resolved", "closed"):
        return []
    elements = []
    if payload.get("status", "open") == "open":
        elements.append(
            {
                "type": "button",
                "action_id": SLACK_ACTION_ACKNOWLEDGE,
                "style": "primary",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "value": str(incident_id),
            }
        )
    elements.append(
        {
            "type": "button",
            "action_id": SLACK_ACTION_RESOLVE,
            "style": "danger",
            "text": {"type": "plain_text", "text": "Resolve"},
            "value": str(incident_id),
            "confirm": {
                "title": {"type": "plain_text", "text": "Resolve the incident?"},
                "text": {"type": "plain_text", "text": str(payload.get("title", ""))[:300]},
                "confirm": {"type": "plain_text", "text": "Resolve"},
                "deny": {"type": "plain_text", "text": "Cancel"},
            },
        }
    )
    link = payload.get("acknowledge_url") or payload.get("url")
    if link:
        elements.append(
            {
                "type": "button",
                "action_id": "wedsync_open",
                "url": link,
                "text": {"type": "plain_text", "text": "Open in WedSync Ops"},
            }
        )
    return [{"type": "actions", "block_id": f"wedsync_incident_{incident_id}", "elements": elements}]


class Slack(Transport):
    """Slack incoming webhook: ``POST {"text", "blocks"}`` to ``channel.config["webhook_url"]``.

    An open incident's message carries Acknowledge / Resolve buttons (``slack_incident_actions``;
    they work once the Slack app's interactivity URL points at the portal).

    Slack answers 200 ``ok``; an error answers 4xx with a code as the body. The codes that mean the
    webhook can never work again (``SLACK_PERMANENT``, and 410) are permanent; ``invalid_payload``,
    429 and 5xx are retried.
    """

    def send(self, payload: dict, *, key: str) -> dict:
        config = self.channel.config or {}
        text = one_line(payload)
        link = payload.get("url") or ""
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}}]
        if link:
            blocks.append(
                {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Open in WedSync Ops>"}]}
            )
        blocks += slack_incident_actions(payload)
        response = http_post(
            config.get("webhook_url") or config.get("url"),
            key=key,
            trusted=self.trusted,
            what="slack",
            json={"text": text, "blocks": blocks},
        )
        try:
            return raise_for_status(
                response, permanent_if=lambda r: r.status_code == 410 or r.text.strip() in SLACK_PERMANENT
            )
        except TransportError as exc:
            code = response.text.strip()
            if code in SLACK_PERMANENT:
                exc.reason = f"Slack says {code}"
            raise


class PagerDuty(Transport):
    """PagerDuty Events API v2: ``trigger`` on firing/opened/escalated, ``acknowledge``, ``resolve``.

    ``config["routing_key"]`` (the service's integration key). The ``dedup_key`` is stable per object,
    ``wedsync-<kind>-<id>``, so a resolve closes the incident its trigger opened. Endpoint
    ``notifications.conf.PAGERDUTY_EVENTS_URL`` (PagerDuty answers 202). A 400 whose errors name the
    routing key is permanent; any other 400 (our event was refused) is retried and counted.
    """

    SEVERITY = {"emergency": "critical", "critical": "critical", "warning": "warning", "info": "info"}

    def send(self, payload: dict, *, key: str) -> dict:
        from . import conf

        routing_key = (self.channel.config or {}).get("routing_key")
        if not routing_key:
            raise TransportError(
                "pagerduty channel has no routing_key in config",
                permanent=True,
                reason="the channel has no routing key",
            )
        verb = event_verb(payload)
        action = {"RESOLVED": "resolve", "ACKNOWLEDGED": "acknowledge"}.get(verb, "trigger")
        body = {"routing_key": routing_key, "event_action": action, "dedup_key": pagerduty_dedup_key(payload)}
        if action == "trigger":
            body["payload"] = {
                "summary": one_line(payload)[:1024],
                "source": payload.get("organization") or "wedsync-ops",
                "severity": self.SEVERITY.get(str(payload.get("severity")), "error"),
                "custom_details": {
                    k: payload.get(k)
                    for k in ("labels", "priority", "status", "wedding_impact")
                    if payload.get(k) is not None
                },
            }
            if payload.get("url"):
                body["links"] = [{"href": payload["url"], "text": "WedSync Ops"}]
        response = http_post(conf.PAGERDUTY_EVENTS_URL, key=key, trusted=True, what="pagerduty", json=body)

        def bad_key(r) -> bool:
            return r.status_code == 400 and "routing" in r.text.lower() and "key" in r.text.lower()

        try:
            return raise_for_status(response, permanent_if=bad_key)
        except TransportError as exc:
            if bad_key(response):
                exc.reason = "PagerDuty says the routing key is invalid"
            raise


def pagerduty_dedup_key(payload: dict) -> str:
    """``wedsync-<alert|incident|test>-<id>``: every event of one object shares it."""
    return f"wedsync-{payload.get('kind', 'alert')}-{payload.get('id', '')}"


TWILIO_PERMANENT_CODES = {20003, 21211, 21606}


def twilio_error_code(response) -> int | None:
    """Twilio's error ``code`` from a JSON error body, or None."""
    try:
        return int(response.json().get("code"))
    except (ValueError, TypeError, AttributeError):
        return None


class Sms(Transport):
    """SMS through Twilio's REST API (``POST /2010-04-01/Accounts/<sid>/Messages.json``, HTTP basic auth).

    ``config``: ``account_sid``, ``auth_token``, ``from`` (E.164 or a messaging service sid ``MG…``),
    ``to`` (one number or a list). One message per recipient, text ``one_line`` cut to 320 characters;
    base URL ``notifications.conf.TWILIO_API_BASE_URL``. Twilio answers 201; 401 and errors 20003,
    21211 and 21606 are permanent.
    """

    def send(self, payload: dict, *, key: str) -> dict:
        from . import conf

        config = self.channel.config or {}
        sid, token, sender = config.get("account_sid"), config.get("auth_token"), config.get("from")
        to = config.get("to")
        recipients = [to] if isinstance(to, str) else list(to or [])
        if not (sid and token and sender and recipients):
            raise TransportError(
                "sms channel needs account_sid, auth_token, from and to in config",
                permanent=True,
                reason="the channel is missing its Twilio settings",
            )
        url = f"{conf.TWILIO_API_BASE_URL.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
        text = one_line(payload)[:320]
        info = {}
        for index, number in enumerate(recipients):
            sender_field = "MessagingServiceSid" if str(sender).startswith("MG") else "From"
            response = http_post(
                url,
                key=key,
                trusted=True,
                what="sms",
                data={"To": number, sender_field: sender, "Body": text},
                auth=(sid, token),
                headers={"I-Twilio-Idempotency-Token": f"{key}.{index}"},
            )
            info = raise_for_status(
                response,
                permanent_if=lambda r: r.status_code in (401, 410) or twilio_error_code(r) in TWILIO_PERMANENT_CODES,
            )
        return info


class Email(Transport):
    """Email through Django's email backend (``settings.EMAIL_BACKEND``, SMTP by default).

    ``config["to"]``: one address or a list. Subject ``[WedSync] <one_line>``; a plain-text body with the
    details and the link; headers ``X-WedSync-Event`` and ``X-WedSync-Delivery``. Recipients refused by
    the server: permanent; other SMTP or connection errors: temporary.
    """

    def send(self, payload: dict, *, key: str) -> dict:
        import smtplib

        from django.core.mail import EmailMessage, get_connection

        to = (self.channel.config or {}).get("to")
        recipients = [to] if isinstance(to, str) else list(to or [])
        if not recipients:
            raise TransportError(
                "email channel has no recipients in config['to']",
                permanent=True,
                reason="the channel has no recipients",
            )
        lines = [one_line(payload), ""]
        for name in ("status", "severity", "priority", "organization", "starts_at", "ends_at", "wedding_impact"):
            if payload.get(name):
                lines.append(f"{name}: {payload[name]}")
        for name, value in sorted((payload.get("labels") or {}).items()):
            lines.append(f"label {name}: {value}")
        if payload.get("url"):
            lines += ["", payload["url"]]
        message = EmailMessage(
            subject=f"[WedSync] {one_line(payload)}"[:200],
            body="\n".join(lines),
            to=recipients,
            connection=get_connection(timeout=settings.NOTIFY_HTTP_TIMEOUT_S),
            headers={"X-WedSync-Event": str(payload.get("event", "")), DELIVERY_HEADER: key},
        )
        try:
            sent = message.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise TransportError(
                f"recipients refused: {', '.join(exc.recipients)}",
                permanent=True,
                reason="the mail server refused the recipients",
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"email failed: {exc}", reason="the mail server could not be reached") from None
        return {"status_code": None, "body": f"sent to {sent and len(recipients)} recipients"}


class NotYetSupported(Transport):
    """Placeholder for channel kinds without a transport yet: a permanent error naming the kind."""

    def send(self, payload: dict, *, key: str) -> dict:
        raise TransportError(
            f"channel kind {self.channel.kind!r} is not yet supported",
            permanent=True,
            reason="this kind of channel is not supported",
        )


TRANSPORTS: dict[str, type[Transport]] = {
    "webhook": Webhook,
    "email": Email,
    "sms": Sms,
    "slack": Slack,
    "pagerduty": PagerDuty,
}


class UndecryptableConfig(Transport):
    """A channel whose stored configuration no key of ``FIELD_ENCRYPTION_KEYS`` opens: a temporary error.

    Temporary, not permanent: a key removed by mistake must not disable every channel; once the key is
    back the retries deliver.
    """

    def send(self, payload: dict, *, key: str) -> dict:
        raise TransportError(
            "the channel's configuration cannot be decrypted with FIELD_ENCRYPTION_KEYS",
            reason="the channel's settings cannot be read right now",
        )


def transport_for(channel) -> Transport:
    """The transport instance for ``channel`` (an unknown kind gets ``NotYetSupported``; an undecryptable
    configuration ``UndecryptableConfig``)."""
    from wedsync_ops.crypto import Undecryptable

    if isinstance(getattr(channel, "config", None), Undecryptable):
        return UndecryptableConfig(channel)
    return TRANSPORTS.get(channel.kind, NotYetSupported)(channel)
