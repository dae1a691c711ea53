"""Notification channels, routing rules and the outbox (deliveries and their attempts).

The notifications app sits below ``alerts`` and ``incidents``: it imports
neither. Callers pass the event, the labels routing matches on, the payload
they built and the ids of the alert or incident it is about
(``notifications.services.notification_enqueue``); the rows keep those ids
(``alert_id``, ``incident_id``) as plain references, so this app needs no
model of theirs. Tables keep the names of the SQL contract.
"""

import uuid

from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from wedsync_ops.choices import NotificationChannelKind
from wedsync_ops.crypto import EncryptedJSONField
from wedsync_ops.db import EnumField
from wedsync_ops.tenancy.models import Organization


def _uuid_pk():
    return models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)


# Config keys that are secrets (shown as "•••• last 4", replaced, never displayed): a generic webhook's URL
# often carries a token in its path or query, Slack's always does.
SECRET_FIELDS = ("url", "webhook_url", "secret", "routing_key", "auth_token")


class NotificationChannel(models.Model):
    """Where notifications go. Table ``notification_channels``.

    ``config`` by kind: webhook ``{"url", "secret"?}`` (HMAC-SHA256 signature
    header when a secret is set); slack ``{"webhook_url"}``; pagerduty
    ``{"routing_key"}``; sms ``{"account_sid", "auth_token", "from", "to"}``
    (Twilio); email ``{"to": [addresses]}`` (``notifications.transports``).
    The whole ``config`` is encrypted at rest (column ``config_encrypted``, a
    Fernet token under ``FIELD_ENCRYPTION_KEYS``, ``wedsync_ops.crypto``);
    forms show its secrets masked (``SECRET_FIELDS``).
    ``organization`` NULL: a platform channel (the ops team's), which
    receives every organization's notifications unless routing says
    otherwise. A channel is disabled (``enabled`` False, ``disabled_reason``,
    ``disabled_at``) by staff, by its organization's admins, or by an error
    that is permanent by the receiver's own documented meaning, or by
    repeated 4xx over a sustained period (``notifications.conf``). A
    disabled channel still gets its deliveries written, ``held``, and
    re-enabling it sends the recent ones.
    """

    id = _uuid_pk()
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="channels"
    )
    kind = EnumField(enum_type="notification_channel", choices=NotificationChannelKind.choices)
    name = models.CharField(max_length=100)
    config = EncryptedJSONField(default=dict, blank=True, db_column="config_encrypted")
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    wedding_day_emergency = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Paged too, for every routed notification, while the organization's wedding-day protocol is on "
        "(never on other days)",
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "notification_channels"
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.kind})"


class NotificationRule(models.Model):
    """Routing: which channels a notification goes to. Table ``apm_notification_rules``.

    ``matchers`` (Alertmanager's, ``wedsync_ops.matchers``) see the labels
    the caller passes: the alert's labels plus ``severity``, ``priority`` and
    ``organization`` (slug). Rules are tried in ``position`` order; the first
    matching rule's channels receive the notification and routing stops there
    unless ``continue_matching`` (Alertmanager's ``continue``). While the
    organization's wedding-day protocol is on every matching rule's channels
    receive it, plus every channel marked ``wedding_day_emergency`` (of the
    organization and the platform). No rule in scope: every channel of the
    organization and the platform except the wedding-day emergency ones
    (the default). Rules in scope but none matching: the platform's channels
    (the default route). ``organization`` NULL: a platform rule, applied to
    every organization's notifications (staff only).
    """

    id = _uuid_pk()
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_rules",
        db_index=False,
    )
    name = models.CharField(max_length=200)
    position = models.IntegerField(default=100, help_text="Lower first")
    matchers = models.JSONField(default=list, blank=True, help_text="Empty: every notification")
    channels = models.ManyToManyField(NotificationChannel, through="NotificationRuleChannel", related_name="rules")
    continue_matching = models.BooleanField(default=False, help_text="Keep trying the next rules after a match")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "apm_notification_rules"
        ordering = ["position", "created_at"]
        indexes = [models.Index(fields=["organization", "position"], name="idx_apm_notification_rules_org")]

    def __str__(self):
        return self.name


class NotificationRuleChannel(models.Model):
    """A channel of a routing rule. ``organization`` is the rule's (for row-level security)."""

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    rule = models.ForeignKey(NotificationRule, on_delete=models.CASCADE, related_name="rule_channels", db_index=False)
    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        db_table = "apm_notification_rule_channels"
        constraints = [models.UniqueConstraint(fields=["rule", "channel"], name="idx_apm_notification_rule_channel")]
        indexes = [
            models.Index(fields=["channel"], name="idx_apm_notif_rule_ch_channel"),
            models.Index(fields=["organization"], name="idx_apm_notif_rule_ch_org"),
        ]

    def __str__(self):
        return f"{self.rule_id} → {self.channel_id}"

    def save(self, *args, **kwargs):
        if self.rule_id and not self.organization_id:
            self.organization_id = (
                NotificationRule.objects.filter(pk=self.rule_id).values_list("organization_id", flat=True).first()
            )
        super().save(*args, **kwargs)


class NotificationDelivery(models.Model):
    """The outbox: one notification of one event to one channel or one person. Table ``notification_deliveries``.

    Written in the transaction that changes the alert or incident, so a
    notification exists if and only if the change committed; written by
    ``notifications.services.notification_enqueue`` only. Exactly one row per
    (channel, event, alert, incident, step, person, method): ``step`` tells escalation steps
    (and later repeats) apart.

    A page to a person (on-call paging) has no channel: ``method`` (email, sms, voice, slack) and
    ``address`` say how it is sent, ``user_id`` (a Django user) or ``contact_id`` (an
    ``escalation_contacts`` row: a person without a login) and ``recipient_name`` who it is for;
    the app knows people only as these ids and addresses. Its ``organization`` is the person's
    (NULL for staff: vendors never see the ops team's pages). ``alert_id``/``incident_id`` reference
    ``alert_history``/``incidents`` (foreign keys with ``ON DELETE CASCADE``
    in the database; plain ids here, so this app imports neither).
    ``group_key``: the alert group (Alertmanager's group key) for grouped
    sending. ``organization`` is the channel's (NULL for platform channels:
    the ops team's deliveries are staff-only).

    Statuses: ``pending`` (due at ``next_attempt_at``), ``sending`` (claimed
    until ``claimed_until``), ``delivered``, ``failed`` (attempts used up),
    ``held`` (its channel is disabled: sent when it is re-enabled, if still
    recent), ``cancelled`` (no longer wanted: muted by a silence, the incident
    was acknowledged, or held too long; ``last_error`` says why).
    """

    class Event(models.TextChoices):
        ALERT_FIRING = "alert.firing"
        ALERT_RESOLVED = "alert.resolved"
        ALERT_ESCALATED = "alert.escalated"
        INCIDENT_OPENED = "incident.opened"
        INCIDENT_ACKNOWLEDGED = "incident.acknowledged"
        INCIDENT_ESCALATED = "incident.escalated"
        INCIDENT_RESOLVED = "incident.resolved"
        INCIDENT_REOPENED = "incident.reopened"

    class Method(models.TextChoices):
        EMAIL = "email", "email"
        SMS = "sms", "SMS"
        VOICE = "voice", "voice call"
        SLACK = "slack", "Slack direct message"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        DELIVERED = "delivered"
        FAILED = "failed"
        HELD = "held"
        CANCELLED = "cancelled"

    id = _uuid_pk()
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # No index of its own: notification_delivery_channel leads with channel_id.
    channel = models.ForeignKey(
        NotificationChannel, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    event = models.CharField(max_length=40, choices=Event.choices)
    step = models.PositiveSmallIntegerField(
        default=0, db_default=0, help_text="Escalation step (1, 2 …) of an escalated event; 0 otherwise"
    )
    alert_id = models.UUIDField(null=True, blank=True, help_text="alert_history.id the notification is about")
    incident_id = models.UUIDField(null=True, blank=True, help_text="incidents.id the notification is about")
    group_key = models.CharField(max_length=500, blank=True, default="", db_default="")
    user_id = models.IntegerField(null=True, blank=True, help_text="The person paged (auth user id), if any")
    contact_id = models.UUIDField(null=True, blank=True, help_text="The escalation contact paged, if any")
    method = models.CharField(max_length=8, choices=Method.choices, blank=True, default="", db_default="")
    address = models.CharField(max_length=254, blank=True, default="", db_default="")
    recipient_name = models.CharField(max_length=200, blank=True, default="", db_default="")
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_default=Now())
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "notification_deliveries"
        ordering = ["-created_at"]
        verbose_name_plural = "notification deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "event", "alert_id", "incident_id", "step", "user_id", "contact_id", "method"],
                nulls_distinct=False,
                name="notification_delivery_once",
            ),
            models.CheckConstraint(
                condition=(Q(channel__isnull=False) & Q(method=""))
                | (Q(channel__isnull=True) & ~Q(method="") & ~Q(address="")),
                name="notification_delivery_channel_or_person",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_delivery_due"),
            models.Index(fields=["group_key"], name="notification_delivery_group", condition=~Q(group_key="")),
            models.Index(fields=["channel", "status"], name="notification_delivery_channel"),
            models.Index(
                fields=["user_id", "-created_at"],
                name="notification_delivery_person",
                condition=Q(user_id__isnull=False),
            ),
        ]

    def __str__(self):
        step = f" step {self.step}" if self.step else ""
        return f"{self.event}{step} → {self.target_label} ({self.status})"

    @property
    def is_page(self) -> bool:
        """A page to a person (no channel)."""
        return self.channel_id is None

    @property
    def target_label(self) -> str:
        """``"ops hook"`` for a channel; ``"Priya Shah by SMS +447700900123"`` for a person."""
        if self.channel_id is not None:
            return self.channel.name if self.channel else str(self.channel_id)
        return f"{self.recipient_name or 'someone'} by {self.get_method_display()} {self.address}"


class DeliveryAttempt(models.Model):
    """One attempt to send through a channel: outcome, HTTP status, error and duration (ms).

    Table ``notification_delivery_attempts``. ``delivery`` NULL: a test
    notification sent from the channels page or the admin (``test`` True).
    ``channel`` is always set, so a channel's recent outcomes are one index
    scan (``notification_attempt_channel``).
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(
        NotificationChannel, null=True, blank=True, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    delivery = models.ForeignKey(
        NotificationDelivery, null=True, blank=True, on_delete=models.CASCADE, related_name="attempt_log"
    )
    test = models.BooleanField(default=False, db_default=False)
    attempted_at = models.DateTimeField(db_default=Now())
    ok = models.BooleanField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.FloatField()

    class Meta:
        db_table = "notification_delivery_attempts"
        ordering = ["-attempted_at"]
        indexes = [models.Index(fields=["channel", "-attempted_at"], name="notification_attempt_channel")]

    def __str__(self):
        return f"{'ok' if self.ok else 'failed'} {self.status_code or ''} in {self.duration_ms:.0f} ms"


class DeliveryAttemptDetail(models.Model):
    """What the receiver answered to one failed attempt, for staff only. Table ``notification_attempt_details``.

    ``response_body``: the first 500 characters of the receiver's answer (a 4xx page, Slack's error
    code, Twilio's JSON …). Row-level security lets staff and service contexts alone read it: the
    attempt itself (``DeliveryAttempt.error``) is readable by the channel's organization and never
    quotes the receiver.
    """

    attempt = models.OneToOneField(DeliveryAttempt, primary_key=True, on_delete=models.CASCADE, related_name="detail")
    response_body = models.TextField(blank=True)

    class Meta:
        db_table = "notification_attempt_details"

    def __str__(self):
        return f"answer to attempt {self.attempt_id}"
