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

import requests
from django.conf import settings

USER_AGENT = "WedSync-Ops-Notifier/1.0"
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


class Webhook(Transport):
    """Generic webhook: ``POST`` the payload as JSON to ``channel.config["url"]``.

    Timeout ``settings.NOTIFY_HTTP_TIMEOUT_S`` seconds (connect and read).
    2xx: delivered. 408, 429, 5xx, timeouts and connection errors:
    temporary. Other statuses (4xx, and 1xx/3xx since redirects are not
    followed) and a missing or malformed URL: permanent.
    """

    def send(self, payload: dict) -> dict:
        url = (self.channel.config or {}).get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise TransportError("webhook channel has no valid http(s) url in config['url']", permanent=True)
        try:
            response = requests.post(
                url,
                json=payload,
                headers={"User-Agent": USER_AGENT},
                timeout=settings.NOTIFY_HTTP_TIMEOUT_S,
                allow_redirects=False,
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


class NotYetSupported(Transport):
    """Placeholder for channel kinds without a transport yet: a permanent error naming the kind."""

    def send(self, payload: dict) -> dict:
        raise TransportError(f"channel kind {self.channel.kind!r} is not yet supported", permanent=True)


TRANSPORTS: dict[str, type[Transport]] = {
    "webhook": Webhook,
    "email": NotYetSupported,
    "sms": NotYetSupported,
    "slack": NotYetSupported,
    "pagerduty": NotYetSupported,
}


def transport_for(channel) -> Transport:
    """The transport instance for ``channel`` (an unknown kind gets ``NotYetSupported``)."""
    return TRANSPORTS.get(channel.kind, NotYetSupported)(channel)
