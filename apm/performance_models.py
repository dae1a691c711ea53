"""The WS-259 performance tables and error correlations (issue 18): ``core_web_vitals``, ``api_performance``,
``user_journey_performance``, ``error_correlations``. Importable from ``apm.models``."""

from django.db import models
from django.db.models.functions import Now

from apm.models import ErrorPattern
from wedsync_ops.tenancy.models import Organization


class CoreWebVitals(models.Model):
    """The 75th percentile of each web vital per page, device class and hour. Table ``core_web_vitals``.

    Filled by SQL ``rollup_core_web_vitals(at, lookback)`` (``apm.performance``) from the
    ``web_vitals.<name>`` points of ``POST /api/v1/web-vitals/``. ``lcp_ms``, ``inp_ms``, ``fcp_ms``,
    ``ttfb_ms`` in ms, ``cls`` unitless; p75 because web-vitals/Chrome UX Report assess a page at its
    75th percentile. Each ``*_rating`` is ``good`` / ``needs-improvement`` / ``poor`` by the web-vitals
    library's own thresholds (``web_vitals_rating``): LCP 2500/4000 ms, INP 200/500 ms, CLS 0.1/0.25,
    FCP 1800/3000 ms, TTFB 800/1800 ms (github.com/GoogleChrome/web-vitals, ``src/on*.ts``
    ``*Thresholds``). ``device_class``: the sender's ``device`` (mobile, tablet, desktop) or ``unknown``.
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    bucket_start = models.DateTimeField()
    page = models.CharField(max_length=500)
    device_class = models.CharField(max_length=20)
    samples = models.PositiveIntegerField()
    lcp_ms = models.FloatField(null=True, blank=True)
    inp_ms = models.FloatField(null=True, blank=True)
    cls = models.FloatField(null=True, blank=True)
    fcp_ms = models.FloatField(null=True, blank=True)
    ttfb_ms = models.FloatField(null=True, blank=True)
    lcp_rating = models.CharField(max_length=20, blank=True)
    inp_rating = models.CharField(max_length=20, blank=True)
    cls_rating = models.CharField(max_length=20, blank=True)
    fcp_rating = models.CharField(max_length=20, blank=True)
    ttfb_rating = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "core_web_vitals"
        ordering = ["-bucket_start", "page"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "bucket_start", "page", "device_class"], name="core_web_vitals_key"
            ),
        ]

    def __str__(self):
        return f"{self.page} ({self.device_class}) {self.bucket_start:%Y-%m-%d %H:00}"


class ApiPerformance(models.Model):
    """Per endpoint and minute: requests, errors, p50/p95/p99 latency (ms). Table ``api_performance``.

    Filled by SQL ``rollup_api_performance(at, lookback)`` from the ``response_time`` points of
    ``performance_metrics`` that carry an endpoint tag. ``error_count``: points with a 5xx status
    (or tag ``error`` true); ``error_rate`` = error_count / request_count (0..1). Percentiles are
    ``percentile_cont`` (linear interpolation) of the minute's points.
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    service = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=500)
    bucket_start = models.DateTimeField()
    request_count = models.BigIntegerField()
    error_count = models.BigIntegerField()
    error_rate = models.FloatField()
    p50_ms = models.FloatField()
    p95_ms = models.FloatField()
    p99_ms = models.FloatField()
    max_ms = models.FloatField()
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "api_performance"
        ordering = ["-bucket_start", "service", "endpoint"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "service", "endpoint", "bucket_start"], name="api_performance_key"
            ),
        ]
        indexes = [models.Index(fields=["bucket_start"], name="api_performance_time")]

    def __str__(self):
        return f"{self.service} {self.endpoint} {self.bucket_start:%H:%M} p95={self.p95_ms:.0f} ms"


class UserJourneyPerformance(models.Model):
    """A named journey's steps and success per hour. Table ``user_journey_performance``.

    Filled by SQL ``rollup_user_journeys(at, lookback)`` from points named ``journey.step``: one per
    step a client completed (or failed), value = the step's duration (ms), tags ``journey`` (e.g.
    ``rsvp``), ``journey_id`` (one run of it), ``step`` (e.g. ``open_form``), ``step_index`` (1-based),
    ``steps`` (how many the journey has) and ``outcome`` (``ok`` or ``failed``). A run belongs to the
    hour of its first point; it succeeded when it has its last step (``step_index = steps``) ``ok``.
    ``steps``: ``[{"index": int, "step": str, "count": int, "failed": int, "p50_ms": float, "p95_ms":
    float}]`` in step order; ``success_rate`` = journeys_completed / journeys_started (0..1);
    ``p50_total_ms``: the median of a completed run's summed step durations.
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    journey = models.CharField(max_length=100)
    bucket_start = models.DateTimeField()
    steps = models.JSONField(default=list)
    journeys_started = models.PositiveIntegerField()
    journeys_completed = models.PositiveIntegerField()
    success_rate = models.FloatField()
    p50_total_ms = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "user_journey_performance"
        ordering = ["-bucket_start", "journey"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "journey", "bucket_start"], name="user_journey_performance_key"
            ),
        ]

    def __str__(self):
        return f"{self.journey} {self.bucket_start:%Y-%m-%d %H:00} {self.success_rate:.0%}"


class ErrorCorrelation(models.Model):
    """Two error patterns of different services that belong to one problem. Table ``error_correlations``.

    Written only by SQL ``correlate_error_patterns(at, window)`` (``apm.correlation``, which documents the
    rules and their sources). ``pattern`` < ``related_pattern`` by id (one row per pair); ``rule``:
    ``shared_trace`` (reports of both carry the same ``trace_id`` / ``request_id`` tag) or
    ``time_window`` (their first reports came within ``window`` of each other); ``score`` 0..1 (higher:
    stronger evidence); ``origin_pattern``: the likely origin, the one whose report came first (in the
    shared trace, or the earlier first_seen); ``gap_seconds``: how long after the origin the other began;
    ``shared_traces``: how many trace/request ids the two share.
    """

    class Rule(models.TextChoices):
        SHARED_TRACE = "shared_trace"
        TIME_WINDOW = "time_window"

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    # No index of its own: error_correlations_pair leads with pattern_id.
    pattern = models.ForeignKey(ErrorPattern, on_delete=models.CASCADE, related_name="+", db_index=False)
    related_pattern = models.ForeignKey(ErrorPattern, on_delete=models.CASCADE, related_name="+")
    origin_pattern = models.ForeignKey(ErrorPattern, on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=20, choices=Rule.choices)
    score = models.FloatField()
    gap_seconds = models.FloatField()
    shared_traces = models.PositiveIntegerField(default=0)
    detected_at = models.DateTimeField()
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "error_correlations"
        ordering = ["-score", "-detected_at"]
        constraints = [
            models.UniqueConstraint(fields=["pattern", "related_pattern"], name="error_correlations_pair"),
            models.CheckConstraint(
                condition=models.Q(pattern__lt=models.F("related_pattern")), name="error_correlations_ordered_pair"
            ),
        ]
        indexes = [models.Index(fields=["organization", "detected_at"], name="error_correlations_org_time")]

    def __str__(self):
        return f"{self.pattern_id} ~ {self.related_pattern_id} ({self.rule}, {self.score:.2f})"
