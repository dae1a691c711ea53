"""Acknowledging an incident from a page: the signed link, an SMS reply ``ACK <code>``, "press 1" on a call.

Each page carries an ``AcknowledgeToken`` (one incident, one person, one step): the link and the voice
callback name it with a signature (``django.core.signing.TimestampSigner`` with ``SECRET_KEY``, a salt
per use, ``ONCALL_ACK_LINK_MAX_AGE_S``), an SMS reply quotes its code from the person's own number.
``page_acknowledge`` uses a token once: it acknowledges the incident through the incidents app's
service (so the timeline says who and how, alerts are acknowledged and pending pages cancelled) and
marks the token used, in one transaction and a service context (the token is the authority: no login).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from wedsync_ops.tenancy.context import service_context

from .. import conf
from ..models import AcknowledgeToken, ContactMethod
from ..selectors import display_name
from .paging import LINK_SALT, VOICE_SALT

ACK_REPLY = re.compile(r"^\s*ack\s+([A-Za-z0-9]{4,8})\s*[.!]?\s*$", re.IGNORECASE)


def token_from_signed(value: str, *, salt: str = LINK_SALT) -> AcknowledgeToken | None:
    """The token a signed link (or voice callback, ``salt=VOICE_SALT``) names, or None when the
    signature is wrong or older than ``ONCALL_ACK_LINK_MAX_AGE_S``. Reads in a service context."""
    try:
        raw = signing.TimestampSigner(salt=salt).unsign(value, max_age=conf.ACK_LINK_MAX_AGE_S)
        token_id = uuid.UUID(raw)
    except (signing.BadSignature, ValueError):
        return None
    with service_context():
        return (
            AcknowledgeToken.objects.select_related("incident", "incident__organization", "user", "contact")
            .filter(pk=token_id)
            .first()
        )


def voice_token(value: str) -> AcknowledgeToken | None:
    """``token_from_signed`` for the voice call's gather callback."""
    return token_from_signed(value, salt=VOICE_SALT)


def person_name(token: AcknowledgeToken) -> str:
    """Who the token's page was for: the user's name, or the contact's."""
    if token.user_id:
        return display_name(token.user)
    return token.contact.name if token.contact is not None else "someone"


def token_for_sms(*, body: str, from_number: str, now: dt.datetime) -> tuple[AcknowledgeToken | None, str]:
    """``(token, "")`` for an SMS ``ACK <code>`` from ``from_number``, or ``(None, why)``.

    The code must belong to an unused, unexpired page to a person whose SMS or voice number (or,
    for a contact, phone) is ``from_number``: a code alone, from another phone, acknowledges nothing.
    """
    match = ACK_REPLY.match(body or "")
    if not match:
        return None, "Reply ACK followed by the code in the page to acknowledge it."
    code = match.group(1).upper()
    with service_context():
        token = (
            AcknowledgeToken.objects.select_related("incident", "user", "contact")
            .filter(code=code, used_at__isnull=True, expires_at__gt=now)
            .first()
        )
        if token is not None:
            if token.user_id:
                owns = ContactMethod.objects.filter(
                    user_id=token.user_id, kind__in=["sms", "voice"], address=from_number
                ).exists()
            else:
                owns = token.contact is not None and (token.contact.phone or "").replace(" ", "") == from_number
            if owns:
                return token, ""
    return None, f"No open page has the code {code} for this number."


@dataclass(frozen=True)
class AckOutcome:
    """What acknowledging through a token did: ``ok`` (this call acknowledged it) and a ``message`` for the person."""

    ok: bool
    message: str
    incident: object = None


def page_acknowledge(*, token: AcknowledgeToken, via: str, now: dt.datetime, detail: str = "") -> AckOutcome:
    """Acknowledge ``token``'s incident as its person; returns an ``AckOutcome`` (never raises for a used,
    expired or moot token: the outcome says so).

    ``via``: ``AcknowledgeToken.Via`` (link, sms, voice); ``detail`` is added to the timeline (e.g.
    the number the reply came from). The token is used once: a second use answers "already used".
    """
    from incidents.services import incident_acknowledge

    texts = {"link": "the one-time link of their page", "sms": "an SMS reply", "voice": "the voice call (pressed 1)"}
    with service_context(), transaction.atomic():
        locked = (
            AcknowledgeToken.objects.select_for_update(of=("self",))
            .select_related("incident", "user", "contact")
            .get(pk=token.pk)
        )
        incident = locked.incident
        if locked.used_at is not None:
            return AckOutcome(
                False, f"This page was already used to acknowledge, at {locked.used_at:%H:%M} UTC.", incident
            )
        if locked.expires_at <= now:
            return AckOutcome(False, "This page has expired.", incident)
        if incident.status != "open":
            return AckOutcome(False, f"Nothing to do: the incident is {incident.status}.", incident)
        how = texts.get(via, via) + (f" {detail}" if detail else "") + (f", step {locked.step}" if locked.step else "")
        try:
            incident_acknowledge(
                incident=incident,
                by=locked.user if locked.user_id else None,
                now=now,
                via=how,
                by_name=""
                if locked.user_id or locked.contact is None
                else f"{locked.contact.name} (escalation contact)",
            )
        except ValidationError:
            incident.refresh_from_db()
            return AckOutcome(False, f"Nothing to do: the incident is {incident.status}.", incident)
        AcknowledgeToken.objects.filter(pk=locked.pk).update(used_at=now, used_via=via)
        # The other pages of this person and incident are moot now: no second use, no confusion.
        AcknowledgeToken.objects.filter(incident_id=incident.pk, used_at__isnull=True).filter(
            Q(user_id=locked.user_id) if locked.user_id else Q(contact_id=locked.contact_id)
        ).update(expires_at=now)
        incident.refresh_from_db()
    return AckOutcome(True, f"Acknowledged: {incident.title}. Thank you, {person_name(token)}.", incident)
