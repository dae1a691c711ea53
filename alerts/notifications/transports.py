"""Outbound notification transports: one class per channel kind (healthchecks ``hc/api/transports.py`` style).

``TRANSPORTS`` maps a ``NotificationChannel.kind`` to its transport class.
A transport is built with its channel and has ``send(payload) -> dict``
(the response info ``{"status_code": int | None, "body": str}``, body cut
to 500 characters) and ``notify(delivery)`` (sends ``delivery.payload``). It
raises ``TransportError(message, permanent=…)``: a permanent error (the
receiver said the request can never succeed: a 4xx other than 408/429, a
bad URL, an unsupported kind) disables the channel; a temporary one
(timeouts, connection errors, 408, 429, 5xx) is retried with back-off.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import requests
from django.conf import settings

USER_AGENT = "WedSync-Ops-Notifier/1.0"
SIGNATURE_HEADER = "X-WedSync-Signature"
BODY_EXCERPT_CHARS = 500


class TransportError(Exception):
    """A failed send. ``message``: why, for people; ``permanent``: retrying cannot help; ``status_code`` or None."""

    def __init__(self, message: str, permanent: bool = False, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status_code = status_code


class Transport:
    """Base class: a transport for one channel (``self.channel``)."""

    def __init__(self, channel):
        self.channel = channel

    def notify(self, delivery) -> dict:
        """Send ``delivery.payload`` (a JSON-able dict). Returns the response info; raises TransportError."""
        return self.send(delivery.payload)

    def send(self, payload: dict) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


def http_post(url: str, *, what: str = "webhook", **kwargs) -> dict:
    """POST with the house rules; returns ``{"status_code", "body"}`` or raises TransportError.

    Timeout ``settings.NOTIFY_HTTP_TIMEOUT_S`` seconds (connect and read);
    redirects are not followed. 2xx: success. 408, 429, 5xx, timeouts and
    connection errors: temporary. Other statuses (4xx, and 1xx/3xx) and a
    malformed URL: permanent.
    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise TransportError(f"{what} channel has no valid http(s) url", permanent=True)
    headers = {"User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
    try:
        response = requests.post(
            url, headers=headers, timeout=settings.NOTIFY_HTTP_TIMEOUT_S, allow_redirects=False, **kwargs
        )
    except requests.exceptions.Timeout:
        raise TransportError(f"timed out after {settings.NOTIFY_HTTP_TIMEOUT_S:g} s", permanent=False) from None
    except requests.exceptions.ConnectionError as exc:
        raise TransportError(f"connection failed: {exc}", permanent=False) from None
    except requests.exceptions.RequestException as exc:
        # Invalid URL, bad schema, too many redirects …: retrying cannot help.
        raise TransportError(f"request failed: {exc}", permanent=True) from None
    code = response.status_code
    body = response.text[:BODY_EXCERPT_CHARS]
    if 200 <= code < 300:
        return {"status_code": code, "body": body}
    temporary = code in (408, 429) or code >= 500
    raise TransportError(
        f"received HTTP {code}: {body[:200]}".rstrip(": "), permanent=not temporary, status_code=code
    )


def signature_header(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the exact request body with the channel's secret (GitHub's scheme)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class Webhook(Transport):
    """Generic webhook: ``POST`` the payload as JSON to ``channel.config["url"]``.

    With ``config["secret"]`` the request carries ``X-WedSync-Signature:
    sha256=<hex HMAC-SHA256 of the body>`` and ``X-WedSync-Event: <event>``;
    receivers recompute the HMAC over the raw body bytes and compare in
    constant time. Status handling: ``http_post``.
    """

    def send(self, payload: dict) -> dict:
        config = self.channel.config or {}
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
        headers = {"Content-Type": "application/json", "X-WedSync-Event": str(payload.get("event", ""))}
        secret = config.get("secret")
        if secret:
            headers[SIGNATURE_HEADER] = signature_header(str(secret), body)
        return http_post(config.get("url"), what="webhook", data=body, headers=headers)


def event_verb(payload: dict) -> str:
    """``FIRING``, ``RESOLVED``, ``OPENED``, ``ACKNOWLEDGED``, ``ESCALATED`` or ``TEST`` from ``payload["event"]``."""
    return str(payload.get("event", "")).rsplit(".", 1)[-1].upper() or "NOTIFICATION"


def one_line(payload: dict) -> str:
    """E.g. ``[FIRING] critical rosewood-florals: Checkout latency …``."""
    org = payload.get("organization") or "platform"
    return f"[{event_verb(payload)}] {payload.get('severity', '')} {org}: {payload.get('title', '')}"


class Slack(Transport):
    """Slack incoming webhook: ``POST {"text", "blocks"}`` to ``channel.config["webhook_url"]``.

    Slack answers 200 ``ok``; 400 (``invalid_payload``), 403, 404
    (``no_service``) and 410 (``channel_is_archived``) are permanent, 429 and
    5xx temporary (``http_post``).
    """

    def send(self, payload: dict) -> dict:
        config = self.channel.config or {}
        text = one_line(payload)
        link = payload.get("url") or ""
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}}]
        if link:
            element = {"type": "mrkdwn", "text": f"<{link}|Open in WedSync Ops>"}
            blocks.append({"type": "context", "elements": [element]})
        return http_post(config.get("webhook_url") or config.get("url"), what="slack",
                         json={"text": text, "blocks": blocks})


class PagerDuty(Transport):
    """PagerDuty Events API v2: ``trigger`` on firing/opened/escalated, ``acknowledge``, ``resolve``.

    ``config["routing_key"]`` (the service's integration key). The
    ``dedup_key`` is stable per object, ``wedsync-<kind>-<id>``, so a
    resolve closes the incident its trigger opened. Endpoint
    ``alerts.conf.PAGERDUTY_EVENTS_URL`` (PagerDuty answers 202).
    """

    SEVERITY = {"emergency": "critical", "critical": "critical", "warning": "warning", "info": "info"}

    def send(self, payload: dict) -> dict:
        from alerts import conf

        routing_key = (self.channel.config or {}).get("routing_key")
        if not routing_key:
            raise TransportError("pagerduty channel has no routing_key in config", permanent=True)
        verb = event_verb(payload)
        action = {"RESOLVED": "resolve", "ACKNOWLEDGED": "acknowledge"}.get(verb, "trigger")
        body = {
            "routing_key": routing_key,
            "event_action": action,
            "dedup_key": pagerduty_dedup_key(payload),
        }
        if action == "trigger":
            body["payload"] = {
                "summary": one_line(payload)[:1024],
                "source": payload.get("organization") or "wedsync-ops",
                "severity": self.SEVERITY.get(str(payload.get("severity")), "error"),
                "custom_details": {k: payload.get(k) for k in ("labels", "priority", "status", "wedding_impact")
                                   if payload.get(k) is not None},
            }
            if payload.get("url"):
                body["links"] = [{"href": payload["url"], "text": "WedSync Ops"}]
        return http_post(conf.PAGERDUTY_EVENTS_URL, what="pagerduty", json=body)


def pagerduty_dedup_key(payload: dict) -> str:
    """``wedsync-<alert|incident|test>-<id>``: every event of one object shares it."""
    return f"wedsync-{payload.get('kind', 'alert')}-{payload.get('id', '')}"


class Sms(Transport):
    """SMS through Twilio's REST API (``POST /2010-04-01/Accounts/<sid>/Messages.json``, HTTP basic auth).

    ``config``: ``account_sid``, ``auth_token``, ``from`` (E.164 or a
    messaging service sid ``MG…``), ``to`` (one number or a list). One
    message per recipient, text ``one_line`` cut to 320 characters; base URL
    ``alerts.conf.TWILIO_API_BASE_URL``. Twilio answers 201; a 400 (bad
    number) or 401 is permanent.
    """

    def send(self, payload: dict) -> dict:
        from alerts import conf

        config = self.channel.config or {}
        sid, token, sender = config.get("account_sid"), config.get("auth_token"), config.get("from")
        to = config.get("to")
        recipients = [to] if isinstance(to, str) else list(to or [])
        if not (sid and token and sender and recipients):
            raise TransportError("sms channel needs account_sid, auth_token, from and to in config", permanent=True)
        url = f"{conf.TWILIO_API_BASE_URL.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
        text = one_line(payload)[:320]
        info = {}
        for number in recipients:
            sender_field = "MessagingServiceSid" if str(sender).startswith("MG") else "From"
            info = http_post(url, what="sms", data={"To": number, sender_field: sender, "Body": text},
                             auth=(sid, token))
        return info


class Email(Transport):
    """Email through Django's email backend (``settings.EMAIL_BACKEND``, SMTP by default).

    ``config["to"]``: one address or a list. Subject ``[WedSync] <one_line>``;
    a plain-text body with the details and the link. Recipients refused by
    the server: permanent; other SMTP or connection errors: temporary.
    """

    def send(self, payload: dict) -> dict:
        import smtplib

        from django.core.mail import EmailMessage, get_connection

        to = (self.channel.config or {}).get("to")
        recipients = [to] if isinstance(to, str) else list(to or [])
        if not recipients:
            raise TransportError("email channel has no recipients in config['to']", permanent=True)
        lines = [one_line(payload), ""]
        for key in ("status", "severity", "priority", "organization", "starts_at", "ends_at", "wedding_impact"):
            if payload.get(key):
                lines.append(f"{key}: {payload[key]}")
        for name, value in sorted((payload.get("labels") or {}).items()):
            lines.append(f"label {name}: {value}")
        if payload.get("url"):
            lines += ["", payload["url"]]
        message = EmailMessage(
            subject=f"[WedSync] {one_line(payload)}"[:200], body="\n".join(lines), to=recipients,
            connection=get_connection(timeout=settings.NOTIFY_HTTP_TIMEOUT_S),
            headers={"X-WedSync-Event": str(payload.get("event", ""))},
        )
        try:
            sent = message.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise TransportError(f"recipients refused: {', '.join(exc.recipients)}", permanent=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"email failed: {exc}", permanent=False) from None
        return {"status_code": None, "body": f"sent to {sent and len(recipients)} recipients"}


class NotYetSupported(Transport):
    """Placeholder for channel kinds without a transport yet: a permanent error naming the kind."""

    def send(self, payload: dict) -> dict:
        raise TransportError(f"channel kind {self.channel.kind!r} is not yet supported", permanent=True)


TRANSPORTS: dict[str, type[Transport]] = {
    "webhook": Webhook,
    "email": Email,
    "sms": Sms,
    "slack": Slack,
    "pagerduty": PagerDuty,
}


def transport_for(channel) -> Transport:
    """The transport instance for ``channel`` (an unknown kind gets ``NotYetSupported``)."""
    return TRANSPORTS.get(channel.kind, NotYetSupported)(channel)
