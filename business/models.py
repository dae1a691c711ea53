"""Business events of the vendors' clients and what is computed from them (issue 18, §4).

Tables, every one a tenant table under row-level security (``apply_tenant_rls``), written only by
``business.services`` (and the SQL functions it calls):

- ``business_events``: one row per event the platform reports (``POST /api/v1/business-events/``).
- ``conversion_funnels`` (definitions) and ``conversion_funnel_steps`` (per funnel, local day and step:
  clients that reached the step in order, and the conversion from the first step).
- ``feature_usage``: per organization, local day and feature: active users and events.
- ``revenue_metrics``: per organization, local day and currency: bookings, payment success rate,
  revenue and failed-payment revenue.
- ``user_segments`` (rule-defined segments of a vendor's clients, i.e. its weddings) and
  ``user_segment_counts`` (members per local day).
- ``business_alert_rules``: a rule type over business events (an event type's count against its
  baseline), evaluated by the beat and fired through ``alerts.services``.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now

from wedsync_ops.choices import AlertPriority, AlertSeverity
from wedsync_ops.tenancy.models import Organization


class EventType(models.TextChoices):
    """What happened. ``payment_failed`` is the one event whose rise is bad news; the rest are good."""

    BOOKING_CREATED = "booking_created"
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    RSVP_SUBMITTED = "rsvp_submitted"
    GALLERY_VIEWED = "gallery_viewed"
    FORM_SUBMITTED = "form_submitted"


class BusinessEvent(models.Model):
    """One business event. Table ``business_events``.

    ``actor_id``: the platform's opaque id of the client or user who did it ('' when unknown; funnels
    and active users count only events that have one). ``properties``: a JSON object (at most
    ``business.services.PROPERTIES_MAX_BYTES`` encoded; ``properties.feature`` names the feature for
    ``feature_usage``, else the event type is the feature). ``revenue_impact``: the amount of money
    the event is about, in ``currency`` (ISO 4217 code, upper case), both or neither.
    ``timestamp``: when it happened (aware); ``ingested_at``: when the portal stored it.
    """

    id = models.BigAutoField(primary_key=True)
    # Indexed by idx_business_events_org_time (organization_id, timestamp): no index of its own.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    actor_id = models.CharField(max_length=100, blank=True, default="")
    properties = models.JSONField(default=dict, blank=True)
    revenue_impact = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    timestamp = models.DateTimeField()
    ingested_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "business_events"
        indexes = [
            models.Index(fields=["organization", "timestamp"], name="idx_business_events_org_time"),
            models.Index(fields=["timestamp"], name="idx_business_events_timestamp"),
            models.Index(
                fields=["-revenue_impact", "-timestamp"],
                name="idx_business_events_revenue",
                condition=models.Q(revenue_impact__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(revenue_impact__isnull=True, currency="")
                    | models.Q(revenue_impact__isnull=False, currency__regex=r"^[A-Z]{3}$")
                ),
                name="business_events_revenue_has_currency",
            ),
            models.CheckConstraint(
                condition=models.Q(event_type__in=EventType.values), name="business_events_event_type_check"
            ),
        ]

    def __str__(self):
        return f"{self.event_type} at {self.timestamp:%Y-%m-%d %H:%M}"


class ConversionFunnel(models.Model):
    """A named, ordered list of event types (2 to 8 steps). Table ``conversion_funnels``.

    A client (``actor_id``) reaches step k on a local day when it has an event of each step's type, in
    order, that day (``business_funnels_compute``).
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: conversion_funnels_org_name leads with organization_id.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(max_length=100)
    steps = ArrayField(models.CharField(max_length=32, choices=EventType.choices), size=8)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "conversion_funnels"
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="conversion_funnels_org_name")]

    def __str__(self):
        return self.name


class ConversionFunnelStep(models.Model):
    """A funnel's step on one local day. Table ``conversion_funnel_steps`` (computed, never edited).

    ``step``: 0-based; ``actors``: clients that reached it in order; ``conversion``: ``actors`` over
    the first step's actors (0..1, NULL when the first step had none); ``step_conversion``: over the
    previous step's actors.
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: conversion_funnel_steps_uniq leads with funnel_id.
    funnel = models.ForeignKey(ConversionFunnel, on_delete=models.CASCADE, related_name="days", db_index=False)
    # No index of its own: idx_funnel_steps_org_day leads with organization_id.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    step = models.PositiveSmallIntegerField()
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    actors = models.IntegerField()
    conversion = models.FloatField(null=True)
    step_conversion = models.FloatField(null=True)

    class Meta:
        db_table = "conversion_funnel_steps"
        constraints = [models.UniqueConstraint(fields=["funnel", "day", "step"], name="conversion_funnel_steps_uniq")]
        indexes = [models.Index(fields=["organization", "day"], name="idx_funnel_steps_org_day")]

    def __str__(self):
        return f"step {self.step} on {self.day}"


class FeatureUsage(models.Model):
    """Daily use of a feature by an organization's users. Table ``feature_usage`` (computed).

    ``active_users``: distinct ``actor_id`` with an event of the feature that local day;
    ``events``: all its events. Active organizations of a feature on a day: its rows that day.
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: feature_usage_uniq leads with organization_id.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    feature = models.CharField(max_length=100)
    active_users = models.IntegerField()
    events = models.IntegerField()

    class Meta:
        db_table = "feature_usage"
        constraints = [models.UniqueConstraint(fields=["organization", "day", "feature"], name="feature_usage_uniq")]
        indexes = [models.Index(fields=["day", "feature"], name="idx_feature_usage_day")]

    def __str__(self):
        return f"{self.feature} on {self.day}"


class RevenueMetric(models.Model):
    """An organization's money on one local day, per currency. Table ``revenue_metrics`` (computed).

    ``currency`` ``XXX`` (ISO 4217's "no currency") holds the events without an amount.
    ``payment_success_rate``: succeeded / (succeeded + failed), 0..1, NULL without payments.
    ``revenue``: sum of succeeded payments; ``failed_revenue``: sum of failed payments; in ``currency``.
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: revenue_metrics_uniq leads with organization_id.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    currency = models.CharField(max_length=3)
    bookings = models.IntegerField()
    payments_succeeded = models.IntegerField()
    payments_failed = models.IntegerField()
    payment_success_rate = models.FloatField(null=True)
    revenue = models.DecimalField(max_digits=20, decimal_places=4)
    failed_revenue = models.DecimalField(max_digits=20, decimal_places=4)

    class Meta:
        db_table = "revenue_metrics"
        constraints = [models.UniqueConstraint(fields=["organization", "day", "currency"], name="revenue_metrics_uniq")]

    def __str__(self):
        return f"{self.day} {self.currency}"


class UserSegment(models.Model):
    """A rule-defined segment of a vendor's clients (its weddings). Table ``user_segments``.

    ``rule`` (validated by ``business.services.segment_rule_validate``):
    ``{"wedding_from_days": 0, "wedding_to_days": 30, "statuses": ["planned", "confirmed"]}``: weddings
    whose date is from ``from`` to ``to`` days after the local day (negative: before), in those statuses.
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: user_segments_org_name leads with organization_id.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(max_length=100)
    rule = models.JSONField()
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "user_segments"
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="user_segments_org_name")]

    def __str__(self):
        return self.name


class UserSegmentCount(models.Model):
    """Members of a segment on one local day. Table ``user_segment_counts`` (computed)."""

    id = models.BigAutoField(primary_key=True)
    # No index of its own: user_segment_counts_uniq leads with segment_id.
    segment = models.ForeignKey(UserSegment, on_delete=models.CASCADE, related_name="counts", db_index=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    members = models.IntegerField()

    class Meta:
        db_table = "user_segment_counts"
        constraints = [models.UniqueConstraint(fields=["segment", "day"], name="user_segment_counts_uniq")]

    def __str__(self):
        return f"{self.members} on {self.day}"


class BusinessAlertRule(models.Model):
    """An alert rule over business events. Table ``business_alert_rules``.

    Every evaluation (beat, ``business.tasks.evaluate_rules``) compares the count of ``event_type``
    events in the last ``window_minutes`` with its baseline, the same window of the previous four
    weeks (``business.impact``). ``direction`` ``drop``: fires when the count is at least
    ``threshold_percent`` % below the baseline, and only when the baseline is at least ``min_baseline``
    events (too few to tell a drop from chance otherwise); ``rise``: at least that much above the
    baseline or ``min_baseline``, whichever is larger (a floor, so a rise over a normal of zero counts).
    Fires through ``alerts.services`` with ``severity``/``priority``; resolves when back within.
    """

    class Direction(models.TextChoices):
        DROP = "drop"
        RISE = "rise"

    id = models.BigAutoField(primary_key=True)
    # No index of its own: business_alert_rules_org_name leads with organization_id.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(max_length=100)
    event_type = models.CharField(max_length=32, choices=EventType.choices)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.DROP)
    threshold_percent = models.FloatField(default=50.0)
    min_baseline = models.FloatField(default=5.0)
    window_minutes = models.PositiveIntegerField(default=60)
    severity = models.CharField(max_length=16, choices=AlertSeverity.choices, default=AlertSeverity.WARNING)
    priority = models.CharField(max_length=16, choices=AlertPriority.choices, default=AlertPriority.HIGH)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "business_alert_rules"
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="business_alert_rules_org_name"),
            models.CheckConstraint(
                condition=models.Q(
                    threshold_percent__gt=0, window_minutes__gte=5, window_minutes__lte=1440, min_baseline__gte=0
                ),
                name="business_alert_rules_bounds",
            ),
        ]

    def __str__(self):
        return self.name
