"""Automated runbook actions and their runs (issue 18 §3): ``recovery_actions``, ``auto_recovery_logs``.
Importable from ``incidents.models``."""

import uuid

from django.conf import settings
from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models.functions import Now

from incidents.models import Incident, Runbook
from wedsync_ops.tenancy.models import Organization


class RecoveryAction(models.Model):
    """An automated step of a runbook, run when an alert the runbook matches fires. Table ``recovery_actions``.

    ``kind`` ``http``: ``method`` ``target`` (a URL under one of ``incidents.conf.AUTO_RECOVERY_HTTP_ALLOWLIST``'s
    prefixes) with ``payload`` as JSON, through ``wedsync_ops.outbound`` (success: a 2xx answer within
    ``timeout_seconds``); ``task``: the Celery task named ``target`` (one of ``AUTO_RECOVERY_TASKS``)
    is sent with ``payload`` as keyword arguments (success: enqueued). ``wedding_day_policy``: ``always``;
    ``off_wedding_days`` (skipped while the organization's wedding-day protocol is on); or
    ``approval_on_wedding_days`` (waits for an on-call person's approval then). The alert must resolve
    within ``recovery_window_minutes`` of the run, or the run counts as not recovered; escalation goes on
    as usual meanwhile. ``organization`` NULL: a platform runbook's action.
    """

    class Kind(models.TextChoices):
        HTTP = "http", "HTTP call to an allow-listed internal endpoint"
        TASK = "task", "Celery task from the allow-list"

    class WeddingDayPolicy(models.TextChoices):
        ALWAYS = "always", "always"
        OFF_WEDDING_DAYS = "off_wedding_days", "only off wedding days"
        APPROVAL_ON_WEDDING_DAYS = "approval_on_wedding_days", "on wedding days only with on-call approval"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="actions")
    position = models.PositiveSmallIntegerField(default=1)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    target = models.CharField(max_length=500, help_text="http: the URL; task: the Celery task name")
    method = models.CharField(max_length=6, choices=[("POST", "POST"), ("PUT", "PUT"), ("GET", "GET")], default="POST")
    payload = models.JSONField(default=dict, blank=True)
    wedding_day_policy = models.CharField(
        max_length=30, choices=WeddingDayPolicy.choices, default=WeddingDayPolicy.APPROVAL_ON_WEDDING_DAYS
    )
    recovery_window_minutes = models.PositiveIntegerField(default=5)
    timeout_seconds = models.FloatField(default=10.0)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "recovery_actions"
        ordering = ["runbook_id", "position", "name"]

    def __str__(self):
        return f"{self.name} ({self.kind} {self.target})"

    def clean(self):
        """The target is on its allow-list (and, for HTTP, acceptable to the outbound client)."""
        from django.core.exceptions import ValidationError

        from .recovery import action_target_problem

        problem = action_target_problem(kind=self.kind, target=self.target)
        if problem:
            raise ValidationError({"target": problem})
        if self.runbook_id and self.organization_id != self.runbook.organization_id:
            raise ValidationError({"organization": "must be the runbook's organization"})


class AutoRecoveryLog(models.Model):
    """One run (or decision not to run) of an automated action for a firing alert. Table ``auto_recovery_logs``.

    ``status``: ``pending`` (queued), ``awaiting_approval`` (wedding day: an on-call person must approve),
    ``running``, ``succeeded``, ``failed`` or ``skipped`` (policy: not on a wedding day). ``recovered``:
    None until known, then whether the alert resolved by ``window_ends_at``. ``duration_ms``: the
    call's or enqueueing's wall time (ms); ``http_status`` for HTTP actions; ``outcome``: what happened.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        AWAITING_APPROVAL = "awaiting_approval"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        SKIPPED = "skipped"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # No index of its own: auto_recovery_once_per_alert leads with action_id.
    action = models.ForeignKey(RecoveryAction, on_delete=models.CASCADE, related_name="logs", db_index=False)
    alert = models.ForeignKey("alerts.AlertHistory", on_delete=models.CASCADE, related_name="+")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    wedding_day = models.BooleanField(default=False)
    outcome = models.TextField(blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    window_ends_at = models.DateTimeField(null=True, blank=True)
    recovered = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "auto_recovery_logs"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["action", "alert"], name="auto_recovery_once_per_alert")]
        indexes = [models.Index(fields=["status", "window_ends_at"], name="auto_recovery_open_windows")]

    def __str__(self):
        return f"{self.action_id} for {self.alert_id}: {self.status}"
