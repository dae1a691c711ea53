"""Writes of a person's paging settings: contact methods, personal notification rules, the iCal feed secret.

A person is a Django user; their rows carry their organization (None for staff). Each function
validates first (``ValidationError`` naming the field) and writes in one transaction, in the
caller's tenant context.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from wedsync_ops.tenancy.models import UserProfile

from ..models import ContactMethod, Method, PagingProfile, PersonalRule, new_feed_token

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")  # ITU-T E.164: + country code and number, at most 15 digits
SLACK_MEMBER = re.compile(r"^[UW][A-Z0-9]{6,20}$")  # Slack user ids: U… or W… (Enterprise Grid)
MAX_DELAY_MINUTES = 120


def person_organization_id(user):
    """The person's organization id (None for staff or someone without a membership)."""
    if user.is_staff:
        return None
    return UserProfile.objects.filter(user_id=user.pk).values_list("organization_id", flat=True).first()


def profile_for(*, user) -> PagingProfile:
    """The person's paging profile, created on first use (race-safe: backed by the one-to-one key)."""
    profile = PagingProfile.objects.filter(user=user).first()
    if profile is not None:
        return profile
    try:
        with transaction.atomic():
            return PagingProfile.objects.create(user=user, organization_id=person_organization_id(user))
    except IntegrityError:
        return PagingProfile.objects.get(user=user)


def profile_feed_regenerate(*, user) -> str:
    """A new secret for the person's iCal feed (the old URL stops working); returns it."""
    profile = profile_for(user=user)
    profile.ical_token = new_feed_token()
    profile.save(update_fields=["ical_token"])
    return profile.ical_token


def normalize_address(kind: str, address: str) -> str:
    """The address as stored: emails lower-cased domain, numbers without spaces/dashes, Slack ids upper-case.

    Raises ValidationError (key ``address``) for an address that is not one of its kind: an email
    address; an E.164 number (``+447700900123``) for sms and voice; a Slack member id (``U…``/``W…``).
    """
    address = (address or "").strip()
    if kind == "email":
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError({"address": "not an email address"}) from None
        local, domain = address.rsplit("@", 1)
        return f"{local}@{domain.lower()}"
    if kind in ("sms", "voice"):
        number = re.sub(r"[\s\-().]", "", address)
        if not E164.match(number):
            raise ValidationError({"address": "an international number in E.164 form, e.g. +447700900123"})
        return number
    if kind == "slack":
        member = address.upper()
        if not SLACK_MEMBER.match(member):
            raise ValidationError({"address": "a Slack member id (U… or W…: profile, ⋮, Copy member ID)"})
        return member
    raise ValidationError({"kind": f"must be one of {', '.join(Method.values)}"})


def contact_method_add(*, user, kind: str, address: str, label: str = "") -> ContactMethod:
    """Add a way to reach ``user``; returns it. Raises ValidationError: unknown ``kind``, a bad
    ``address`` (``normalize_address``), the same method twice, a Slack member id someone else has."""
    address = normalize_address(kind, address)
    if ContactMethod.objects.filter(user=user, kind=kind, address=address).exists():
        raise ValidationError({"address": "already one of your contact methods"})
    if kind == "slack" and ContactMethod.objects.filter(kind="slack", address=address).exclude(user=user).exists():
        raise ValidationError({"address": "this Slack member id belongs to someone else"})
    try:
        with transaction.atomic():
            return ContactMethod.objects.create(
                user=user,
                organization_id=person_organization_id(user),
                kind=kind,
                address=address,
                label=(label or "")[:60],
            )
    except IntegrityError:
        raise ValidationError({"address": "this contact method exists already"}) from None


def contact_method_delete(*, method: ContactMethod) -> None:
    """Delete a contact method and the rules that use it."""
    method.delete()


def rule_add(*, user, contact_method: ContactMethod, delay_minutes: int, wedding_day: bool = False) -> PersonalRule:
    """Append a rule to the person's ordinary (or wedding-day) list; returns it.

    Raises ValidationError: ``contact_method`` not the person's (key ``contact_method``), used in
    that list already, ``delay_minutes`` outside 0-120 (key ``delay_minutes``).
    """
    if contact_method.user_id != user.pk:
        raise ValidationError({"contact_method": "not one of this person's contact methods"})
    if not isinstance(delay_minutes, int) or not 0 <= delay_minutes <= MAX_DELAY_MINUTES:
        raise ValidationError({"delay_minutes": f"0 (at once) to {MAX_DELAY_MINUTES} minutes"})
    existing = PersonalRule.objects.filter(user=user, wedding_day=wedding_day)
    if existing.filter(contact_method=contact_method).exists():
        raise ValidationError({"contact_method": "already in this list (each method once: the policy repeats pages)"})
    position = (max(existing.values_list("position", flat=True), default=0) or 0) + 1
    return PersonalRule.objects.create(
        user=user,
        organization_id=contact_method.organization_id,
        wedding_day=wedding_day,
        position=position,
        contact_method=contact_method,
        delay_minutes=delay_minutes,
    )


def rule_delete(*, rule: PersonalRule) -> None:
    """Delete a personal rule."""
    rule.delete()
