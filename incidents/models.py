"""Incidents, their timeline, escalation policies and contacts, runbooks and post-incident analyses."""

import uuid

from django.conf import settings
from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models import JSONField, Value
from django.db.models.functions import Now

from wedsync_ops.choices import (
    AlertSeverity,
    EscalationLevel,
    IncidentSeverityType,
    IncidentStatus,
    WeddingImpactLevel,
)
from wedsync_ops.db import EnumField
from wedsync_ops.tenancy.models import Organization, Wedding


class Incident(models.Model):
    """An incident. Table ``incidents`` (view ``apm_incidents``).

    Priority ``p0`` is the most urgent. ``detected_at``, ``acknowledged_at``
    and ``resolved_at`` give MTTA (acknowledged − detected) and MTTR
    (resolved − detected). ``organization`` NULL: platform-wide, staff only.
    """

    class Priority(models.TextChoices):
        P0 = "p0"
        P1 = "p1"
        P2 = "p2"
        P3 = "p3"

    class Source(models.TextChoices):
        MANUAL = "manual"
        ALERT = "alert"
        ERROR_PATTERN = "error_pattern"

    OPEN_STATUSES = ("open", "acknowledged", "investigating")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    # No index of its own: incidents_org_status leads with organization_id.
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="incidents", db_index=False
    )
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    status = EnumField(enum_type="incident_status", choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    priority = models.CharField(max_length=2, choices=Priority.choices, default=Priority.P2)
    severity = EnumField(enum_type="alert_severity", choices=AlertSeverity.choices, default=AlertSeverity.WARNING)
    wedding_impact = EnumField(
        enum_type="wedding_impact_level", choices=WeddingImpactLevel.choices, default=WeddingImpactLevel.NONE
    )
    wedding = models.ForeignKey(Wedding, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents")
    escalation_level = EnumField(
        enum_type="escalation_level", choices=EscalationLevel.choices, default=EscalationLevel.NONE
    )
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(
        max_length=20,
        choices=Source.choices,
        default=Source.MANUAL,
        db_default=Source.ALERT,
        help_text="How the incident was opened (rows written by SQL create_incident_from_alert get 'alert')",
    )
    source_ref = models.CharField(
        max_length=200, blank=True, db_default="", help_text="error_pattern: the pattern's service:signature"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_duplicates"
    )
    escalation_step = models.PositiveIntegerField(
        default=0, db_default=0, help_text="Escalation steps taken so far (reset by reopening)"
    )
    last_escalated_at = models.DateTimeField(null=True, blank=True)
    escalation_clock_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The next step's wait counts from here: when the portal opened (or reopened, or unmuted) the "
        "incident, then when each step was due",
    )
    muted_at = models.DateTimeField(
        null=True, blank=True, help_text="Since when every open alert of the incident is muted (no escalation)"
    )
    group_key = models.CharField(
        max_length=500,
        blank=True,
        default="",
        db_default="",
        help_text="The problem it is about: its alerts' group key (or fingerprint); an alert of the same group "
        "joins it while open, or reopens it within the reopen window",
    )
    resolve_manually = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Stay open when all its alerts resolve (otherwise it resolves itself)",
    )
    detected_at = models.DateTimeField(db_default=Now())
    # WS-259 (issue 18 §1; incidents/sql/tables/incidents.v1.sql): set by the database, never by code.
    is_saturday_incident = models.BooleanField(
        default=False,
        editable=False,
        help_text="Detected on a local Saturday of its organization (set by the trigger incidents_saturday)",
    )
    auto_created = models.GeneratedField(
        expression=~models.Q(source="manual"),
        output_field=models.BooleanField(),
        db_persist=True,
        help_text="Opened by the portal (an alert or error pattern), not by a person",
    )
    incident_severity = models.GeneratedField(
        expression=models.Case(
            models.When(wedding_impact="wedding_day_critical", then=Value("wedding_day_emergency")),
            models.When(priority="p0", then=Value("critical")),
            models.When(priority="p1", then=Value("high")),
            models.When(priority="p2", then=Value("medium")),
            default=Value("low"),
        ),
        output_field=EnumField(enum_type="incident_severity_type", choices=IncidentSeverityType.choices),
        db_persist=True,
        help_text="WS-259 incident_severity_type, from priority and wedding impact",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "incidents"
        ordering = ["-detected_at"]
        indexes = [
            models.Index(fields=["organization", "status"], name="incidents_org_status"),
            models.Index(fields=["organization", "group_key", "created_at"], name="incidents_group_key"),
        ]

    def __str__(self):
        return f"[{self.priority}] {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class IncidentUpdate(models.Model):
    """One entry of an incident's timeline. Table ``incident_updates``.

    ``vendor_visible`` entries are shown to the organization, status-page style.
    """

    class Kind(models.TextChoices):
        CREATED = "created"
        STATUS_CHANGE = "status_change"
        NOTE = "note"
        ESCALATION = "escalation"
        NOTIFICATION = "notification"
        ASSIGNMENT = "assignment"
        ALERT = "alert"
        MERGE = "merge"
        ANALYSIS = "analysis"
        MUTE = "mute"
        RECOVERY = "recovery"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    vendor_visible = models.BooleanField(default=False)
    deliveries = models.JSONField(
        default=list,
        db_default=Value([], JSONField()),
        blank=True,
        help_text="Ids of the notification deliveries this entry wrote (their outcomes)",
    )
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "incident_updates"
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.kind}: {self.message[:60]}"


class EscalationPolicy(models.Model):
    """Who is paged, and when, while an incident stays unacknowledged. Table ``escalation_policies``.

    ``organization`` NULL: the platform default, used for organizations
    without a policy of their own. ``wedding_day`` True: the variant used
    while the organization's wedding-day protocol is on (shorter waits; the
    wedding-day emergency contacts are paged at every step as well). The
    ordered ``steps`` run ``repeat_count`` times in all (1: once).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="escalation_policies",
        help_text="Empty: the platform default",
    )
    name = models.CharField(max_length=200)
    wedding_day = models.BooleanField(default=False, help_text="The variant used while wedding-day protocol is on")
    repeat_count = models.PositiveSmallIntegerField(default=1, help_text="How many times the steps run in all (1-10)")
    resolve_manually = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Incidents under this policy stay open when all their alerts resolve (Grafana OnCall's "
        "resolve condition); otherwise they resolve themselves",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "escalation_policies"
        ordering = ["organization_id", "wedding_day", "name"]
        verbose_name_plural = "escalation policies"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "wedding_day"],
                condition=models.Q(enabled=True),
                nulls_distinct=False,
                name="escalation_policy_one_enabled",
            ),
            models.CheckConstraint(
                condition=models.Q(repeat_count__gte=1, repeat_count__lte=10), name="escalation_policy_repeat_1_10"
            ),
        ]

    def __str__(self):
        scope = "platform default" if self.organization_id is None else "organization"
        return f"{self.name} ({scope}{', wedding day' if self.wedding_day else ''})"


class EscalationStep(models.Model):
    """One step of a policy: wait ``wait_minutes`` after the previous step (or detection), then page.

    Table ``escalation_steps`` (same organization as its policy). Every step raises the incident's
    escalation ``level`` and notifies the channels routing chooses for ``incident.escalated``; its
    ``target`` says who is paged besides:

    - ``level`` (the default, as before): nobody directly; the active contacts at ``level`` are
      named in the notification for the pager behind a channel.
    - ``schedule``: whoever is on call for ``schedule`` at that moment, through their own rules.
    - ``user``: a named person (``user``), through their own rules.
    - ``contact``: an escalation ``contact`` without a login, at each of its addresses.
    - ``channel``: ``channel``, whatever routing says.
    """

    class Target(models.TextChoices):
        LEVEL = "level", "contacts at the level (named only)"
        SCHEDULE = "schedule", "the schedule's on-call person"
        USER = "user", "a named user"
        CONTACT = "contact", "an escalation contact"
        CHANNEL = "channel", "a notification channel"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # No index of its own: escalation_step_position leads with policy_id.
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps", db_index=False)
    position = models.PositiveSmallIntegerField(help_text="Order within the policy, smallest first")
    wait_minutes = models.PositiveIntegerField(default=5)
    level = EnumField(enum_type="escalation_level", choices=EscalationLevel.choices, default=EscalationLevel.TEAM_LEAD)
    target = models.CharField(max_length=10, choices=Target.choices, default=Target.LEVEL, db_default=Target.LEVEL)
    schedule = models.ForeignKey("oncall.Schedule", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contact = models.ForeignKey("EscalationContact", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    channel = models.ForeignKey(
        "notifications.NotificationChannel", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "escalation_steps"
        ordering = ["policy_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="escalation_step_position"),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        target="level",
                        schedule__isnull=True,
                        user__isnull=True,
                        contact__isnull=True,
                        channel__isnull=True,
                    )
                    | models.Q(
                        target="schedule",
                        schedule__isnull=False,
                        user__isnull=True,
                        contact__isnull=True,
                        channel__isnull=True,
                    )
                    | models.Q(
                        target="user",
                        schedule__isnull=True,
                        user__isnull=False,
                        contact__isnull=True,
                        channel__isnull=True,
                    )
                    | models.Q(
                        target="contact",
                        schedule__isnull=True,
                        user__isnull=True,
                        contact__isnull=False,
                        channel__isnull=True,
                    )
                    | models.Q(
                        target="channel",
                        schedule__isnull=True,
                        user__isnull=True,
                        contact__isnull=True,
                        channel__isnull=False,
                    )
                ),
                name="escalation_step_one_target",
            ),
        ]

    def __str__(self):
        return f"after {self.wait_minutes} min: {self.target_text}"

    @property
    def target_text(self) -> str:
        """``"team_lead"``, ``"on call: Platform primary"``, ``"user priya"``, ``"contact Dana"``, ``"channel ops"``."""
        if self.target == self.Target.SCHEDULE and self.schedule_id:
            return f"on call: {self.schedule}"
        if self.target == self.Target.USER and self.user_id:
            return f"user {self.user}"
        if self.target == self.Target.CONTACT and self.contact_id:
            return f"contact {self.contact.name}"
        if self.target == self.Target.CHANNEL and self.channel_id:
            return f"channel {self.channel.name}"
        return str(self.level)

    def clean(self):
        """Exactly the field its ``target`` names is set, of the policy's organization or the platform."""
        from django.core.exceptions import ValidationError

        fields = {
            "schedule": self.schedule_id,
            "user": self.user_id,
            "contact": self.contact_id,
            "channel": self.channel_id,
        }
        errors = {}
        for name, value in fields.items():
            if name == self.target and value is None:
                errors[name] = f"a step that targets a {name} needs one"
            elif name != self.target and value is not None:
                errors[name] = f"leave empty: the step targets {self.target}"
        if errors:
            raise ValidationError(errors)
        policy_org = self.policy.organization_id if self.policy_id else None
        for name in ("schedule", "contact", "channel"):
            obj = getattr(self, name) if fields[name] else None
            if obj is not None and obj.organization_id not in (None, policy_org):
                raise ValidationError({name: "belongs to another organization"})
        if self.user_id:
            member_org = getattr(getattr(self.user, "profile", None), "organization_id", None)
            if self.user.is_staff:
                pass
            elif policy_org is None or member_org != policy_org:
                raise ValidationError({"user": "must be operations staff or a member of the policy's organization"})


class EscalationContact(models.Model):
    """A person paged at an escalation level. Table ``escalation_contacts``.

    ``organization`` NULL: the platform's on-call people. Active hours
    (``active_from``..``active_until``, local times in ``timezone``; a range
    may wrap midnight; both empty: always) limit when the contact is paged;
    ``wedding_day_emergency`` contacts are paged at every step while the
    wedding-day protocol is on, whatever the hour.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="escalation_contacts"
    )
    name = models.CharField(max_length=200)
    level = EnumField(enum_type="escalation_level", choices=EscalationLevel.choices, default=EscalationLevel.TEAM_LEAD)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="E.164, e.g. +447700900123")
    slack = models.CharField(max_length=100, blank=True, help_text="Slack member id or @handle")
    wedding_day_emergency = models.BooleanField(default=False)
    timezone = models.CharField(max_length=64, default="UTC")
    active_from = models.TimeField(null=True, blank=True)
    active_until = models.TimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "escalation_contacts"
        ordering = ["level", "name"]

    def __str__(self):
        return f"{self.name} ({self.level})"


class Runbook(models.Model):
    """A runbook: markdown ``content`` and its sanitized HTML. Table ``runbooks``.

    Matched to alerts and incidents by the ``service`` and ``alertname``
    labels (empty: any). ``version`` counts edits; every version's text is
    kept in ``RunbookVersion``. ``organization`` NULL: a platform runbook.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    service = models.CharField(max_length=100, blank=True, help_text="Label 'service' it applies to; empty: any")
    alertname = models.CharField(max_length=200, blank=True, help_text="Label 'alertname' it applies to; empty: any")
    content = models.TextField(help_text="Markdown")
    content_html = models.TextField(editable=False, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "runbooks"
        ordering = ["title"]

    def __str__(self):
        return f"{self.title} (v{self.version})"


class RunbookVersion(models.Model):
    """One saved version of a runbook's markdown. Table ``runbook_versions``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # No index of its own: runbook_version_once leads with runbook_id.
    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="versions", db_index=False)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    content = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "runbook_versions"
        ordering = ["runbook_id", "-version"]
        constraints = [models.UniqueConstraint(fields=["runbook", "version"], name="runbook_version_once")]

    def __str__(self):
        return f"{self.title} v{self.version}"


class PostIncidentAnalysis(models.Model):
    """The post-incident analysis of one incident. Table ``post_incident_analysis``.

    ``impact_minutes``: detection to resolution, in minutes. ``timeline``:
    a snapshot of ``incident_updates`` (list of ``{"at": ISO time, "kind",
    "message", "author"}``). ``action_items``: list of ``{"description",
    "owner", "due_date": "YYYY-MM-DD", "done": bool}``. A published analysis
    is required before a p0 or p1 incident can close.
    """

    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="analysis")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    summary = models.TextField(blank=True)
    weddings_affected = models.PositiveIntegerField(default=0)
    organizations_affected = models.PositiveIntegerField(default=0)
    impact_minutes = models.PositiveIntegerField(default=0)
    impact_description = models.TextField(blank=True)
    timeline = models.JSONField(default=list, blank=True)
    root_cause = models.TextField(blank=True)
    contributing_factors = models.TextField(blank=True)
    action_items = models.JSONField(default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "post_incident_analysis"
        verbose_name_plural = "post-incident analyses"

    def __str__(self):
        return f"Analysis of {self.incident_id} ({self.status})"


# Defined in their own module by concern (this one stays under 600 lines); importable from here as before.

# Defined in their own module by concern (this one stays under 600 lines); importable from here as before.
from incidents.recovery_models import AutoRecoveryLog, RecoveryAction  # noqa: E402, F401
