"""On-call services: every write of the on-call tables goes through one of these.

``schedules``: schedules, layers, participants, overrides. ``people``: contact methods, personal rules,
feed secrets. ``paging``: pages to people (recipients for the outbox) and their acknowledge tokens.
``acknowledge``: acknowledging an incident from a page (link, SMS reply, voice call).
"""

from .acknowledge import AckOutcome, page_acknowledge, token_for_sms, token_from_signed, voice_token
from .paging import PersonPage, acknowledge_link, acknowledge_token_issue, contact_page, person_page
from .people import (
    contact_method_add,
    contact_method_delete,
    profile_feed_regenerate,
    profile_for,
    rule_add,
    rule_delete,
)
from .schedules import (
    eligible,
    eligible_people,
    override_create,
    override_delete,
    rotation_delete,
    rotation_save,
    schedule_feed_regenerate,
    schedule_save,
)

__all__ = [
    "AckOutcome",
    "PersonPage",
    "acknowledge_link",
    "acknowledge_token_issue",
    "contact_method_add",
    "contact_method_delete",
    "contact_page",
    "eligible",
    "eligible_people",
    "override_create",
    "override_delete",
    "page_acknowledge",
    "person_page",
    "profile_feed_regenerate",
    "profile_for",
    "rotation_delete",
    "rotation_save",
    "rule_add",
    "rule_delete",
    "schedule_feed_regenerate",
    "schedule_save",
    "token_for_sms",
    "token_from_signed",
    "voice_token",
]
