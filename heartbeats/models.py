"""Heartbeat checks (healthchecks.io-compatible ping URLs), their pings and state changes, and the portal's job runs.

Tables: ``heartbeat_checks``, ``heartbeat_pings``, ``heartbeat_flips`` (tenant
tables: ``organization_id`` NULL is a platform check, staff only) and
``job_runs`` (staff only: the portal's own beat jobs). Only
``heartbeats.services`` and ``heartbeats.jobs`` write them.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models.functions import Now

from alerts.models import AlertIntegration
from wedsync_ops.choices import AlertPriority, AlertSeverity
from wedsync_ops.db import EnumField
from wedsync_ops.tenancy.models import Organization


class HeartbeatCheck(models.Model):
    """A job that promises to ping ``/ping/<ping_uuid>``. Table ``heartbeat_checks``.

    Schedule: ``kind = period`` expects a success ping every ``period_s``
    seconds; ``kind = cron`` expects one at every time of the cron expression
    ``cron`` in the IANA time zone ``timezone`` (cronsim, as healthchecks.io).
    ``next_expected_at`` (when the check turns late) is computed at each
    ping. States (healthchecks.io's, with ``late`` stored): ``new`` (never
    pinged), ``up``, ``late`` (past ``next_expected_at``, within the grace),
    ``down`` (past ``next_expected_at`` + grace, or a ``fail`` ping, or a
    ``start`` not followed by a success within the grace), ``paused``.
    The grace is ``grace_s`` (s), or while the organization's wedding-day
    protocol is on ``wedding_day_grace_s`` (empty: half of ``grace_s``).
    Going down fires an alert (``severity``/``priority``) through
    ``alerts.services.alert_fire``; the next success resolves it.

    ``watchdog_integration`` set: the check is fed by that Alertmanager
    integration's always-firing ``Watchdog`` alert instead of HTTP pings.
    """

    class Kind(models.TextChoices):
        PERIOD = "period"
        CRON = "cron"

    class Status(models.TextChoices):
        NEW = "new"
        UP = "up"
        LATE = "late"
        DOWN = "down"
        PAUSED = "paused"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    # No index of its own: heartbeat_checks_org_name leads with organization_id.
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="heartbeat_checks",
        help_text="Empty: a platform check (staff only)",
        db_index=False,
    )
    ping_uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False, help_text="The ping URL's key")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PERIOD)
    period_s = models.PositiveIntegerField(default=86400, help_text="Period: a success expected every … seconds")
    cron = models.CharField(max_length=100, blank=True, help_text="Cron: 5 fields, e.g. 0 2 * * *")
    timezone = models.CharField(max_length=64, default="UTC", help_text="Cron: the IANA time zone of the expression")
    grace_s = models.PositiveIntegerField(default=3600, help_text="Late for this long (s) before down")
    wedding_day_grace_s = models.PositiveIntegerField(
        null=True, blank=True, help_text="Grace (s) while the wedding-day protocol is on; empty: half of grace_s"
    )
    severity = EnumField(enum_type="alert_severity", choices=AlertSeverity.choices, default=AlertSeverity.WARNING)
    priority = EnumField(enum_type="alert_priority", choices=AlertPriority.choices, default=AlertPriority.HIGH)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    next_expected_at = models.DateTimeField(null=True, blank=True, help_text="Late from then on (grace starts)")
    last_ping_at = models.DateTimeField(null=True, blank=True, help_text="Last success or fail ping")
    last_start_at = models.DateTimeField(null=True, blank=True, help_text="A run started and has not ended")
    last_start_rid = models.UUIDField(null=True, blank=True)
    last_duration_ms = models.FloatField(null=True, blank=True, help_text="Start to end of the last run (ms)")
    last_exit_status = models.SmallIntegerField(null=True, blank=True)
    n_pings = models.PositiveIntegerField(default=0, db_default=0)
    watchdog_integration = models.OneToOneField(
        AlertIntegration,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="watchdog_check",
        help_text="Fed by this Alertmanager integration's Watchdog alert",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "heartbeat_checks"
        ordering = ["name"]
        indexes = [
            models.Index(fields=["organization", "name"], name="heartbeat_checks_org_name"),
            # The beat tick reads only the checks that can change state.
            models.Index(
                fields=["next_expected_at"],
                name="heartbeat_checks_due",
                condition=models.Q(status__in=["new", "up", "late"]),
            ),
            models.Index(
                fields=["last_start_at"],
                name="heartbeat_checks_started",
                condition=models.Q(status__in=["new", "up", "late"], last_start_at__isnull=False),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def ping_url(self) -> str:
        """``HEARTBEAT_PING_BASE_URL/<ping_uuid>`` (default ``PORTAL_BASE_URL/ping/<ping_uuid>``)."""
        from heartbeats import conf

        return f"{conf.PING_BASE_URL}/{self.ping_uuid}"

    @property
    def last_duration_text(self) -> str:
        """The last measured run, for people (``5 min 12 s``; ``–`` when none)."""
        from heartbeats.schedule import human_seconds

        return human_seconds(None if self.last_duration_ms is None else self.last_duration_ms / 1000)

    @property
    def effective_wedding_day_grace_s(self) -> int:
        """The grace (s) on wedding days: ``wedding_day_grace_s``, or half of ``grace_s`` (rounded down)."""
        return self.wedding_day_grace_s if self.wedding_day_grace_s is not None else self.grace_s // 2


class HeartbeatPing(models.Model):
    """One ping of a check. Table ``heartbeat_pings``; ``n`` counts the check's pings from 1.

    ``kind``: ``success``, ``start``, ``fail`` (``/fail`` or a non-zero
    ``/<exit-status>``) or ``log`` (kept, changes nothing). ``body`` is the
    first ``HEARTBEAT_PING_BODY_LIMIT`` bytes (10 kB) of the request body,
    decoded as UTF-8 (invalid bytes replaced); ``body_bytes`` the length
    received. ``duration_ms``: since the matching ``start`` (ms).
    ``via``: ``http`` or ``alertmanager`` (a Watchdog arrival). The newest
    ``HEARTBEAT_PINGS_KEPT`` pings of a check are kept.
    """

    class Kind(models.TextChoices):
        SUCCESS = "success"
        START = "start"
        FAIL = "fail"
        LOG = "log"

    class Via(models.TextChoices):
        HTTP = "http"
        ALERTMANAGER = "alertmanager"

    id = models.BigAutoField(primary_key=True)
    heartbeat_check = models.ForeignKey(
        HeartbeatCheck, on_delete=models.CASCADE, related_name="pings", db_column="check_id", db_index=False
    )
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    n = models.PositiveIntegerField()
    received_at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    exit_status = models.SmallIntegerField(null=True, blank=True)
    via = models.CharField(max_length=20, choices=Via.choices, default=Via.HTTP)
    method = models.CharField(max_length=10, blank=True)
    scheme = models.CharField(max_length=10, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    rid = models.UUIDField(null=True, blank=True)
    body = models.TextField(blank=True)
    body_bytes = models.PositiveIntegerField(default=0)
    duration_ms = models.FloatField(null=True, blank=True)

    class Meta:
        db_table = "heartbeat_pings"
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["heartbeat_check", "n"], name="heartbeat_pings_check_n")]

    def __str__(self):
        return f"#{self.n} {self.kind} @ {self.received_at:%Y-%m-%d %H:%M:%S}"

    @property
    def duration_text(self) -> str:
        """Since the matching start, for people (``5 min 12 s``; ``–`` when not measured)."""
        from heartbeats.schedule import human_seconds

        return human_seconds(None if self.duration_ms is None else self.duration_ms / 1000)


class HeartbeatFlip(models.Model):
    """A state change of a check. Table ``heartbeat_flips``; the 30-day up/down strip is drawn from these.

    ``reason``: ``ping`` (a success), ``fail`` (a fail ping or exit status),
    ``timeout`` (past next expected + grace), ``late`` (past next expected),
    ``run_timeout`` (started, no end within the grace), ``paused``, ``resumed`` (a start ping on a paused check),
    ``edited`` (schedule changed). ``flipped_at`` is when the state really
    changed (e.g. the end of the grace), not when the tick noticed.
    """

    id = models.BigAutoField(primary_key=True)
    heartbeat_check = models.ForeignKey(
        HeartbeatCheck, on_delete=models.CASCADE, related_name="flips", db_column="check_id", db_index=False
    )
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    flipped_at = models.DateTimeField()
    old_status = models.CharField(max_length=10, choices=HeartbeatCheck.Status.choices)
    new_status = models.CharField(max_length=10, choices=HeartbeatCheck.Status.choices)
    reason = models.CharField(max_length=20)
    wedding_day = models.BooleanField(default=False, db_default=False, help_text="The wedding-day grace applied")

    class Meta:
        db_table = "heartbeat_flips"
        ordering = ["-flipped_at"]
        indexes = [models.Index(fields=["heartbeat_check", "flipped_at"], name="heartbeat_flips_check_at")]

    def __str__(self):
        return f"{self.old_status} → {self.new_status} @ {self.flipped_at:%Y-%m-%d %H:%M:%S}"


class JobRun(models.Model):
    """One run of a Celery beat job. Table ``job_runs`` (staff only).

    Written by Celery's ``task_prerun``/``task_postrun``/``task_failure``
    signals (``heartbeats.jobs``) for every task named in
    ``CELERY_BEAT_SCHEDULE``; ``job`` is the beat entry's name.
    ``outcome``: ``running`` until the task ends, then ``success``,
    ``failure`` or ``retry``. ``rows_handled``: read from the task's return
    value (``heartbeats.jobs.rows_from_result``); ``result`` keeps that
    value (JSON, cut to 2,000 characters). ``duration_ms`` in ms.
    """

    class Outcome(models.TextChoices):
        RUNNING = "running"
        SUCCESS = "success"
        FAILURE = "failure"
        RETRY = "retry"

    id = models.BigAutoField(primary_key=True)
    job = models.CharField(max_length=200)
    task = models.CharField(max_length=200)
    task_id = models.CharField(max_length=100, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    rows_handled = models.BigIntegerField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        db_table = "job_runs"
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["job", "-started_at"], name="job_runs_job_started"),
            models.Index(fields=["started_at"], name="job_runs_started"),
        ]

    def __str__(self):
        return f"{self.job} @ {self.started_at:%Y-%m-%d %H:%M:%S} ({self.outcome})"
