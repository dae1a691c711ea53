"""Pages to people: who is reached how (their own rules) and the acknowledgement each page carries.

The incidents app's escalation asks here when a step targets a schedule's on-call person, a named
user or an escalation contact; it passes the returned ``Recipient`` s to its notification (the one
outbox writer, ``notifications.services.notification_enqueue``), so each method of each person is a
delivery of its own: exactly once per person, step and method, retried, its attempts visible.

A person's methods come from their personal rules (``PersonalRule``): the wedding-day list while
the wedding-day protocol is on (when they have one), else the ordinary list; each rule's delay
becomes the page's ``send_at`` (the incidents app cancels what is still pending once the incident is
acknowledged: "voice call after 3 min if not acknowledged"). Without rules, every contact method at
once; without contact methods, the account's email address. An escalation contact (no login) is
reached at each of its addresses at once (email, SMS to its phone, Slack).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction

from notifications.services import Recipient

from .. import conf
from ..models import AcknowledgeToken, ContactMethod
from ..selectors import display_name, rules_of
from .people import SLACK_MEMBER, person_organization_id

LINK_SALT = "oncall.acknowledge.link"
VOICE_SALT = "oncall.acknowledge.voice"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a phone screen
CODE_LENGTH = 6


def portal_url(path: str) -> str:
    """``settings.PORTAL_BASE_URL`` + ``path``."""
    return settings.PORTAL_BASE_URL.rstrip("/") + path


class _PageSigner(signing.TimestampSigner):
    """django.core.signing's TimestampSigner stamped with the page's own time (``token.created_at``), not the clock."""

    def __init__(self, *, at, salt: str):
        super().__init__(salt=salt)
        self._at = at

    def timestamp(self) -> str:
        return signing.b62_encode(int(self._at.timestamp()))


def acknowledge_link(token: AcknowledgeToken) -> str:
    """The absolute one-time link of ``token`` (signed with ``SECRET_KEY``, stamped with the page's time)."""
    return portal_url(f"/oncall/ack/{_PageSigner(at=token.created_at, salt=LINK_SALT).sign(str(token.pk))}/")


def voice_gather_url(token: AcknowledgeToken) -> str:
    """Where Twilio posts the digit pressed during the voice page of ``token`` (signed like the link)."""
    return portal_url(f"/oncall/twilio/voice/{_PageSigner(at=token.created_at, salt=VOICE_SALT).sign(str(token.pk))}/")


def acknowledge_token_issue(*, incident, step: int, now: dt.datetime, user=None, contact=None) -> AcknowledgeToken:
    """The acknowledgement of the page of ``incident``'s ``step`` to one person (``user`` or ``contact``).

    An unused, unexpired one of (incident, person, step) is reused (the step's email, SMS and voice
    call share it); else a new one expiring ``ONCALL_ACK_LINK_MAX_AGE_S`` after ``now``, with a
    6-character code unique among unused codes. Its organization is the person's (None for staff),
    so vendors never read the ops team's tokens. (A step is taken by one process at a time.)
    """
    existing = AcknowledgeToken.objects.filter(  # type: ignore[misc]  # None: IS NULL, which django-stubs does not model
        incident_id=incident.pk,
        user_id=getattr(user, "pk", None),
        contact_id=getattr(contact, "pk", None),
        step=step,
        used_at__isnull=True,
        expires_at__gt=now,
    ).first()
    if existing is not None:
        return existing
    org_id = person_organization_id(user) if user is not None else contact.organization_id
    for _attempt in range(8):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        try:
            with transaction.atomic():
                return AcknowledgeToken.objects.create(
                    organization_id=org_id,
                    incident_id=incident.pk,
                    user=user,
                    contact=contact,
                    step=step,
                    code=code,
                    created_at=now,
                    expires_at=now + dt.timedelta(seconds=conf.ACK_LINK_MAX_AGE_S),
                )
        except IntegrityError:  # the code is in use: draw another
            continue
    raise RuntimeError("could not draw an unused acknowledge code")


@dataclass
class PersonPage:
    """Who a page is for and how it reaches them: ``recipients`` (empty: unreachable, ``problem`` says why)."""

    name: str
    recipients: list[Recipient] = field(default_factory=list)
    problem: str = ""


def _extras(token: AcknowledgeToken, reason: str) -> dict:
    return {
        "acknowledge_url": acknowledge_link(token),
        "acknowledge_code": token.code,
        "voice_gather_url": voice_gather_url(token),
        "paged_because": reason,
    }


def person_page(*, user, incident, step: int, wedding_day: bool, now: dt.datetime, reason: str = "") -> PersonPage:
    """The page of ``incident``'s escalation ``step`` to ``user``, by their own rules (see the module docstring).

    ``reason`` (e.g. "on call for 'Platform primary' (Weekdays)") travels in the payload. A vendor
    user is never paged about another organization's incident (``problem`` says so).
    """
    name = display_name(user)
    if not user.is_active:
        return PersonPage(name=name, problem="the account is inactive")
    org_id = person_organization_id(user)
    if not user.is_staff and (org_id is None or org_id != incident.organization_id):
        return PersonPage(name=name, problem="not a member of the incident's organization")
    rules = rules_of(user, wedding_day=True) if wedding_day else []
    if not rules:
        rules = rules_of(user, wedding_day=False)
    plan = [(r.contact_method.kind, r.contact_method.address, r.delay_minutes) for r in rules]
    if not plan:
        plan = [(m.kind, m.address, 0) for m in ContactMethod.objects.filter(user=user).order_by("kind", "address")]
    if not plan and user.email:
        plan = [("email", user.email, 0)]
    if not plan:
        return PersonPage(name=name, problem="no contact method and no email address")
    token = acknowledge_token_issue(incident=incident, step=step, now=now, user=user)
    extra = _extras(token, reason)
    seen = set()
    recipients = []
    for kind, address, delay in plan:
        if kind in seen:  # once per person, step and method
            continue
        seen.add(kind)
        recipients.append(
            Recipient(
                method=kind,
                address=address,
                name=name,
                user_id=user.pk,
                organization_id=org_id,
                send_at=now + dt.timedelta(minutes=delay),
                extra=extra,
            )
        )
    return PersonPage(name=name, recipients=recipients)


def contact_page(*, contact, incident, step: int, now: dt.datetime, reason: str = "") -> PersonPage:
    """The page of ``incident``'s ``step`` to an escalation contact (no login): each of its addresses at once."""
    slack = contact.slack.upper() if SLACK_MEMBER.match((contact.slack or "").upper()) else ""  # not a @handle
    plan = [
        (kind, address)
        for kind, address in (("email", contact.email), ("sms", contact.phone), ("slack", slack))
        if address
    ]
    if not contact.is_active:
        return PersonPage(name=contact.name, problem="the contact is inactive")
    if not plan:
        return PersonPage(name=contact.name, problem="the contact has no address")
    token = acknowledge_token_issue(incident=incident, step=step, now=now, contact=contact)
    extra = _extras(token, reason)
    return PersonPage(
        name=contact.name,
        recipients=[
            Recipient(
                method=kind,
                address=address,
                name=contact.name,
                contact_id=contact.pk,
                organization_id=contact.organization_id,
                send_at=now,
                extra=extra,
            )
            for kind, address in plan
        ],
    )
