"""On-call: schedules, their rotations (layers) and overrides; people's contact methods and personal
notification rules; acknowledge tokens of the pages sent to them.

Every table is a tenant table (``organization_id``; NULL for the platform's, staff-only) under FORCE
row-level security (``oncall/sql/policies/``). A child row (rotation, participant, override,
rule …) carries its parent's organization, set on save. People are Django users: operations
staff (organization NULL) or members of one vendor organization.
"""

from __future__ import annotations

import secrets
import uuid
import zoneinfo

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from notifications.models import NotificationDelivery
from wedsync_ops.tenancy.models import Organization, validate_timezone


def _uuid_pk():
    return models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)


def new_feed_token() -> str:
    """A fresh secret for an iCal feed URL (32 URL-safe characters, 192 bits)."""
    return secrets.token_urlsafe(24)


class ParentOrganization(models.Model):
    """Abstract: a child row takes its parent's organization on save (``parent_field``: the foreign key's name)."""

    parent_field = ""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        parent_id = getattr(self, f"{self.parent_field}_id", None)
        if parent_id:
            parent = self._meta.get_field(self.parent_field).related_model
            self.organization_id = parent.objects.filter(pk=parent_id).values_list("organization_id", flat=True).first()
        super().save(*args, **kwargs)


class Schedule(models.Model):
    """An on-call schedule. Table ``oncall_schedules``.

    ``organization`` NULL: a platform schedule (operations staff are its participants); else an
    organization's own on-call (its members), edited by its admins. ``timezone``: the zone its
    handoffs, windows and Saturdays are read in. ``wedding_day_organizations`` (platform schedules
    only): the organizations whose wedding-day protocol turns its wedding-day layers on, besides
    Saturdays in the schedule's own zone (an organization schedule uses its organization's).
    ``ical_token``: the secret of its iCal feed URL (regenerate to revoke).
    """

    id = _uuid_pk()
    # No index of its own: oncall_schedule_name_once leads with organization_id.
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="oncall_schedules",
        help_text="Empty: a platform schedule (staff)",
        db_index=False,
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    enabled = models.BooleanField(default=True)
    wedding_day_organizations = models.ManyToManyField(
        Organization,
        through="ScheduleWeddingDayScope",
        related_name="+",
        blank=True,
    )
    ical_token = models.CharField(max_length=64, unique=True, default=new_feed_token, editable=False)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "oncall_schedules"
        ordering = ["organization_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], nulls_distinct=False, name="oncall_schedule_name_once"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class ScheduleWeddingDayScope(models.Model):
    """A platform schedule's wedding-day scope: ``scoped_organization``'s protocol turns its wedding-day
    layers on. Table ``oncall_schedule_wedding_day_scope`` (staff-only)."""

    id = models.BigAutoField(primary_key=True)
    # No index of its own: oncall_scope_once leads with schedule_id.
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="scope_rows", db_index=False)
    scoped_organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "oncall_schedule_wedding_day_scope"
        constraints = [
            models.UniqueConstraint(fields=["schedule", "scoped_organization"], name="oncall_scope_once"),
        ]

    def __str__(self):
        return f"{self.schedule_id} ← {self.scoped_organization_id}"


class Rotation(ParentOrganization):
    """One layer of a schedule. Table ``oncall_rotations``.

    Participants (``RotationParticipant``, in ``position`` order) take turns: the first from
    ``starts_on`` at ``handoff_time`` (local to the schedule), the next after ``period_count``
    days or weeks, and so on around. ``days`` (ISO weekdays, empty: all) and ``active_from`` ..
    ``active_until`` (local, may wrap midnight; both empty: all day) restrict when the layer works.
    ``wedding_day_only``: the layer works only while the wedding-day protocol is on (local
    Saturdays and wedding days; see ``oncall.schedule``). Higher ``position`` wins where layers overlap.
    """

    class Unit(models.TextChoices):
        DAY = "day"
        WEEK = "week"

    parent_field = "schedule"
    id = _uuid_pk()
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="rotations")
    name = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField(default=1, help_text="Layer order: higher wins where layers overlap")
    starts_on = models.DateField(help_text="Local date of the first handoff")
    handoff_time = models.TimeField(help_text="Local time of every handoff")
    period_unit = models.CharField(max_length=4, choices=Unit.choices, default=Unit.WEEK)
    period_count = models.PositiveSmallIntegerField(default=1, help_text="Hand off every N days or weeks (1-52)")
    days = ArrayField(
        models.PositiveSmallIntegerField(),
        default=list,
        blank=True,
        help_text="ISO weekdays the layer works (1 = Monday … 7 = Sunday); empty: every day",
    )
    active_from = models.TimeField(null=True, blank=True, help_text="Daily window start (local); empty: all day")
    active_until = models.TimeField(null=True, blank=True, help_text="Daily window end (local; may wrap midnight)")
    wedding_day_only = models.BooleanField(default=False, help_text="Works only while the wedding-day protocol is on")
    ends_on = models.DateField(null=True, blank=True, help_text="Last local day (inclusive); empty: no end")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "oncall_rotations"
        ordering = ["schedule_id", "position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_count__gte=1, period_count__lte=52), name="oncall_rotation_period_1_52"
            ),
            models.CheckConstraint(
                condition=(Q(active_from__isnull=True) & Q(active_until__isnull=True))
                | (Q(active_from__isnull=False) & Q(active_until__isnull=False)),
                name="oncall_rotation_window_both_or_neither",
            ),
        ]

    def __str__(self):
        return f"{self.name} (layer {self.position})"

    @property
    def period_days(self) -> int:
        return self.period_count * (7 if self.period_unit == self.Unit.WEEK else 1)

    @property
    def days_label(self) -> str:
        """``"Mon, Tue, Wed, Thu, Fri"`` (or ``"every day"``)."""
        names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        return ", ".join(names[d - 1] for d in sorted(self.days)) if self.days else "every day"


class RotationParticipant(ParentOrganization):
    """A person's turn in a rotation. Table ``oncall_rotation_participants``."""

    parent_field = "rotation"
    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # No index of its own: oncall_participant_position leads with rotation_id.
    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="participants", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        db_table = "oncall_rotation_participants"
        ordering = ["rotation_id", "position"]
        constraints = [models.UniqueConstraint(fields=["rotation", "position"], name="oncall_participant_position")]

    def __str__(self):
        return f"{self.user_id} at {self.position}"


class Override(ParentOrganization):
    """``user`` is on call for the schedule from ``starts_at`` to ``ends_at``, above every layer.
    Table ``oncall_overrides``. Where overrides overlap, the newest wins."""

    parent_field = "schedule"
    id = _uuid_pk()
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # No index of its own: oncall_override_schedule_end leads with schedule_id.
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "oncall_overrides"
        ordering = ["schedule_id", "starts_at"]
        indexes = [models.Index(fields=["schedule", "ends_at"], name="oncall_override_schedule_end")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="oncall_override_ends_after_start"
            )
        ]

    def __str__(self):
        return f"override {self.user_id} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


class PagingProfile(models.Model):
    """A person's paging profile. Table ``oncall_people``: the secret of their own iCal feed.

    ``organization``: the person's (NULL for staff). Created on first use.
    """

    id = _uuid_pk()
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="paging_profile")
    ical_token = models.CharField(max_length=64, unique=True, default=new_feed_token, editable=False)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "oncall_people"

    def __str__(self):
        return f"paging profile of {self.user_id}"


Method = NotificationDelivery.Method


class ContactMethod(models.Model):
    """One way to reach a person. Table ``oncall_contact_methods``.

    ``kind``: ``email`` (an address), ``sms`` and ``voice`` (E.164 numbers, through Twilio),
    ``slack`` (a Slack member id, ``U…``/``W…``: direct messages, and who presses a Slack button).
    A Slack member id belongs to one person only. ``organization``: the person's.
    """

    id = _uuid_pk()
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # No index of its own: oncall_contact_method_once leads with user_id.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods", db_index=False
    )
    kind = models.CharField(max_length=8, choices=Method.choices)
    address = models.CharField(max_length=254)
    label = models.CharField(max_length=60, blank=True, help_text="e.g. work mobile")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "oncall_contact_methods"
        ordering = ["user_id", "kind", "address"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "address"], name="oncall_contact_method_once"),
            models.UniqueConstraint(
                fields=["address"], condition=Q(kind="slack"), name="oncall_slack_member_one_person"
            ),
        ]
        indexes = [models.Index(fields=["kind", "address"], name="oncall_contact_by_address")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.address}"


class PersonalRule(models.Model):
    """One step of a person's own notification rules. Table ``oncall_notification_rules``.

    When a page reaches the person, each rule of the list sends through ``contact_method`` after
    ``delay_minutes`` (0: at once), unless the incident is acknowledged first ("SMS at once, voice
    call after 3 min"). ``wedding_day``: the separate list used while the wedding-day protocol is
    on (empty: the ordinary list applies then too). Each contact method once per list.
    """

    id = _uuid_pk()
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # No index of its own: oncall_rule_method_once leads with user_id.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_rules", db_index=False
    )
    wedding_day = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=1)
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="rules")
    delay_minutes = models.PositiveSmallIntegerField(default=0, help_text="Minutes after the page (0-120)")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "oncall_notification_rules"
        ordering = ["user_id", "wedding_day", "position"]
        constraints = [
            models.UniqueConstraint(fields=["user", "wedding_day", "contact_method"], name="oncall_rule_method_once"),
            models.CheckConstraint(condition=Q(delay_minutes__lte=120), name="oncall_rule_delay_0_120"),
        ]

    def __str__(self):
        when = "at once" if not self.delay_minutes else f"after {self.delay_minutes} min"
        return f"{self.contact_method} {when}{' (wedding day)' if self.wedding_day else ''}"


class AcknowledgeToken(models.Model):
    """The acknowledgement a page to one person carries: one incident, one person, one escalation step.

    Table ``oncall_acknowledge_tokens``. The signed link (``oncall.services.acknowledge_link``)
    names the row; ``code`` is what an SMS reply ``ACK <code>`` quotes. One-time: ``used_at`` is
    set by the first acknowledgement through it (``used_via``: link, sms, voice). Expires at
    ``expires_at``. The person is a ``user`` or an escalation ``contact`` without a login.
    ``organization``: the person's (NULL for staff: a vendor never reads the ops team's codes).
    """

    class Via(models.TextChoices):
        LINK = "link"
        SMS = "sms"
        VOICE = "voice"

    id = _uuid_pk()
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # No index of its own: oncall_ack_token_incident leads with incident_id.
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    contact = models.ForeignKey(
        "incidents.EscalationContact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    step = models.PositiveSmallIntegerField(default=0)
    code = models.CharField(max_length=8)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_via = models.CharField(max_length=8, choices=Via.choices, blank=True)

    class Meta:
        db_table = "oncall_acknowledge_tokens"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["incident", "step"], name="oncall_ack_token_incident")]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=Q(used_at__isnull=True), name="oncall_ack_code_unused_once"
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(contact__isnull=False), name="oncall_ack_token_has_person"
            ),
        ]

    def __str__(self):
        return f"ACK {self.code} ({'used' if self.used_at else 'open'})"
