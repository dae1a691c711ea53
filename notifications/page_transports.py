"""Transports of pages to people: email, SMS and voice calls through Twilio, Slack direct messages.

A page (``NotificationDelivery`` without a channel) names its ``method`` and ``address``; the
credentials are the platform's paging accounts from settings: ``EMAIL_URL``/``DEFAULT_FROM_EMAIL``
(Django's email backend), ``TWILIO_ACCOUNT_SID``/``TWILIO_AUTH_TOKEN``/``TWILIO_FROM_NUMBER``
(REST API at ``notifications.conf.TWILIO_API_BASE_URL``), ``SLACK_BOT_TOKEN`` (Web API at
``notifications.conf.SLACK_API_BASE_URL``). Missing credentials are a permanent error of that page.

Besides the contract of ``notifications.services``, a page's payload carries what its caller added
for the person: ``acknowledge_url`` (a one-time signed link), ``acknowledge_code`` (for an SMS reply
``ACK <code>``), ``voice_gather_url`` (where Twilio posts the digit pressed), ``recipient`` and
``escalation`` (step, policy, why this person: e.g. on call for a schedule).

- Email: subject ``[WedSync] PAGE …``, a plain-text body with the incident, why you were paged and the
  acknowledge link; recipient refused → permanent.
- SMS: ``POST /2010-04-01/Accounts/<sid>/Messages.json`` (basic auth), at most 320 characters, the link
  and "reply ACK <code>" always kept; Twilio 401, 21211 (invalid To), 21606, 21614 (not a mobile) → permanent.
- Voice: ``POST …/Calls.json`` with inline TwiML (``Twiml``): ``<Gather numDigits="1" action=…>`` around
  ``<Say>`` reading the title and "press 1 to acknowledge" (twilio's own TwiML builder).
- Slack: ``POST /chat.postMessage`` (``Authorization: Bearer <bot token>``, ``channel`` = the member id:
  Slack opens the app's direct message), with Acknowledge / Resolve buttons; Slack answers 200 with
  ``{"ok": false, "error": …}`` on failure: ``SLACK_PAGE_PERMANENT`` errors are permanent.
"""

from __future__ import annotations

from django.conf import settings

from . import conf
from .transports import (
    DELIVERY_HEADER,
    TWILIO_PERMANENT_CODES,
    TransportError,
    http_post,
    raise_for_status,
    slack_incident_actions,
    twilio_error_code,
)

SMS_MAX_CHARS = 320
SLACK_PAGE_PERMANENT = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "no_permission",
    "missing_scope",
    "channel_not_found",
    "user_not_found",
    "user_disabled",
    "is_archived",
    "not_in_channel",
    "cannot_dm_bot",
    "team_access_not_granted",
}
TWILIO_PAGE_PERMANENT = TWILIO_PERMANENT_CODES | {21614, 21217, 13224}


def page_line(payload: dict) -> str:
    """``"[p1] ESCALATED step 2: Checkout down (rosewood-florals)"``: what a page says first."""
    esc = payload.get("escalation") or {}
    step = f" step {esc['step']}" if esc.get("step") else ""
    verb = str(payload.get("event", "")).rsplit(".", 1)[-1].upper() or "PAGE"
    org = payload.get("organization") or "platform"
    return f"[{payload.get('priority', '')}] {verb}{step}: {payload.get('title', '')} ({org})"


def why_paged(payload: dict) -> str:
    """``"You are on call for 'Platform primary' (Weekdays)."`` or the policy step, from the payload."""
    esc = payload.get("escalation") or {}
    reason = payload.get("paged_because") or esc.get("reason") or ""
    policy = esc.get("policy")
    text = f"You are paged by escalation policy '{policy}'" if policy else "You are paged"
    if esc.get("step"):
        text += f", step {esc['step']}" + (f" of {esc['of']}" if esc.get("of") else "")
    return text + (f": {reason}" if reason else "") + "."


class PageTransport:
    """Base: ``notify(delivery, key=…)`` sends ``delivery.payload`` to ``delivery.address``."""

    def notify(self, delivery, *, key: str) -> dict:
        return self.send(delivery.payload, address=delivery.address, key=key)

    def send(self, payload: dict, *, address: str, key: str) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


class EmailPage(PageTransport):
    """A page by email through Django's backend (``EMAIL_URL``), from ``DEFAULT_FROM_EMAIL``."""

    def send(self, payload: dict, *, address: str, key: str) -> dict:
        import smtplib

        from django.core.mail import EmailMessage, get_connection

        lines = [page_line(payload), "", why_paged(payload), ""]
        if payload.get("acknowledge_url"):
            lines += ["Acknowledge it (one-time link, no login needed):", payload["acknowledge_url"], ""]
        if payload.get("acknowledge_code"):
            lines += [f"Or reply to the SMS page with: ACK {payload['acknowledge_code']}", ""]
        for name in ("status", "severity", "priority", "organization", "starts_at", "wedding_impact"):
            if payload.get(name):
                lines.append(f"{name}: {payload[name]}")
        wedding = payload.get("wedding") or {}
        if wedding:
            lines.append(
                f"wedding: {wedding.get('couple_name')} on {wedding.get('wedding_date')}"
                f" at {wedding.get('venue_name') or '?'}"
            )
        for label, name in (("incident", "incident_url"), ("runbook", "runbook_url")):
            if payload.get(name):
                lines.append(f"{label}: {payload[name]}")
        message = EmailMessage(
            subject=f"[WedSync] PAGE {page_line(payload)}"[:200],
            body="\n".join(lines),
            to=[address],
            connection=get_connection(timeout=settings.NOTIFY_HTTP_TIMEOUT_S),
            headers={"X-WedSync-Event": str(payload.get("event", "")), DELIVERY_HEADER: key},
        )
        try:
            message.send()
        except smtplib.SMTPRecipientsRefused:
            raise TransportError(
                f"recipient refused: {address}", permanent=True, reason="the mail server refused the address"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"email failed: {exc}", reason="the mail server could not be reached") from None
        return {"status_code": None, "body": f"sent to {address}"}


def _twilio_account() -> tuple[str, str, str]:
    sid = getattr(settings, "TWILIO_ACCOUNT_SID", "")
    token = getattr(settings, "TWILIO_AUTH_TOKEN", "")
    sender = getattr(settings, "TWILIO_FROM_NUMBER", "")
    if not (sid and token and sender):
        raise TransportError(
            "SMS and voice paging need TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER",
            permanent=True,
            reason="Twilio paging is not configured",
        )
    return sid, token, sender


def _twilio_post(resource: str, *, key: str, data: dict) -> dict:
    sid, token, sender = _twilio_account()
    url = f"{conf.TWILIO_API_BASE_URL.rstrip('/')}/2010-04-01/Accounts/{sid}/{resource}.json"
    sender_field = "MessagingServiceSid" if sender.startswith("MG") else "From"
    response = http_post(
        url,
        key=key,
        trusted=True,
        what=resource.lower(),
        data={**data, sender_field: sender},
        auth=(sid, token),
        headers={"I-Twilio-Idempotency-Token": key},
    )
    return raise_for_status(
        response, permanent_if=lambda r: r.status_code in (401, 410) or twilio_error_code(r) in TWILIO_PAGE_PERMANENT
    )


def sms_text(payload: dict) -> str:
    """The SMS: the page line cut so that the link and the ACK code always fit in ``SMS_MAX_CHARS``."""
    tail = ""
    if payload.get("acknowledge_url"):
        tail += f" Ack: {payload['acknowledge_url']}"
    if payload.get("acknowledge_code"):
        tail += f" or reply ACK {payload['acknowledge_code']}"
    head = "WedSync " + page_line(payload)
    room = SMS_MAX_CHARS - len(tail)
    if len(head) > room:
        head = head[: max(room - 1, 0)] + "…"
    return (head + tail)[:SMS_MAX_CHARS]


class SmsPage(PageTransport):
    """A page by SMS through Twilio's Messages API."""

    def send(self, payload: dict, *, address: str, key: str) -> dict:
        return _twilio_post("Messages", key=key, data={"To": address, "Body": sms_text(payload)})


def voice_twiml(payload: dict) -> str:
    """The TwiML of a voice page: read the title, "press 1 to acknowledge", gather one digit."""
    from twilio.twiml.voice_response import Gather, VoiceResponse

    title = str(payload.get("title", "an incident"))[:300]
    org = payload.get("organization") or "the platform"
    response = VoiceResponse()
    text = f"WedSync Ops page. Priority {payload.get('priority', '')}. {title}, for {org}."
    if payload.get("voice_gather_url"):
        gather = Gather(num_digits=1, action=payload["voice_gather_url"], method="POST", timeout=10)
        gather.say(text + " Press 1 to acknowledge.")
        response.append(gather)
        response.say("We did not get your answer. The incident is not acknowledged. Goodbye.")
    else:
        response.say(text)
    return str(response)


class VoicePage(PageTransport):
    """A page by voice call through Twilio's Calls API with inline TwiML (``voice_twiml``)."""

    def send(self, payload: dict, *, address: str, key: str) -> dict:
        return _twilio_post("Calls", key=key, data={"To": address, "Twiml": voice_twiml(payload)})


class SlackPage(PageTransport):
    """A page by Slack direct message: ``chat.postMessage`` with the bot token, to the member id."""

    def send(self, payload: dict, *, address: str, key: str) -> dict:
        token = getattr(settings, "SLACK_BOT_TOKEN", "")
        if not token:
            raise TransportError(
                "Slack paging needs SLACK_BOT_TOKEN", permanent=True, reason="Slack paging is not configured"
            )
        text = page_line(payload)
        blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*\n{why_paged(payload)}"}},
            *slack_incident_actions(payload),
        ]
        response = http_post(
            f"{conf.SLACK_API_BASE_URL.rstrip('/')}/chat.postMessage",
            key=key,
            trusted=True,
            what="slack",
            json={"channel": address, "text": text, "blocks": blocks, "unfurl_links": False},
            headers={"Authorization": f"Bearer {token}"},
        )
        info = raise_for_status(response)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not answer.get("ok"):
            error = str(answer.get("error") or "no ok in Slack's answer")
            raise TransportError(
                f"Slack says {error}",
                permanent=error in SLACK_PAGE_PERMANENT,
                status_code=response.status_code,
                reason=f"Slack says {error}",
            )
        return info


PAGE_TRANSPORTS: dict[str, type[PageTransport]] = {
    "email": EmailPage,
    "sms": SmsPage,
    "voice": VoicePage,
    "slack": SlackPage,
}


def page_transport_for(method: str) -> PageTransport:
    """The transport of a page's ``method``; raises TransportError (permanent) for an unknown one."""
    cls = PAGE_TRANSPORTS.get(method)
    if cls is None:
        raise TransportError(f"unknown page method {method!r}", permanent=True, reason="unknown page method")
    return cls()
