"""Database monitoring events (staff-only) and the live-statistics views."""

import uuid

from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models.functions import Now

from wedsync_ops.choices import AlertSeverity
from wedsync_ops.db import EnumField


class MonitoringEvent(models.Model):
    """A database health event (slow query, connection pressure …). Table ``monitoring_events``.

    Staff-only RLS: visible to ``staff`` and ``service`` contexts alone.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    event_type = models.CharField(max_length=50)
    severity = EnumField(enum_type="alert_severity", choices=AlertSeverity.choices, default=AlertSeverity.WARNING)
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    resolved = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "monitoring_events"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.event_type}: {self.message[:60]}"


class DbSnapshot(models.Model):
    """One minute of database statistics (beat ``dbmonitor.tasks.snapshot``). Table ``db_snapshots``.

    Staff-only RLS (``apply_staff_only_rls``). Written by SQL
    ``capture_db_snapshot(at)``; kept 14 days (``DBMON_HISTORY_DAYS``).
    Connection counts are client backends of this database at ``taken_at``;
    ``xact_commit``, ``blks_hit`` and ``blks_read`` are the cumulative counters
    of ``pg_stat_database`` (trends use differences of consecutive rows);
    ``statement_calls`` and ``statement_total_ms`` (ms) are the sums of this
    snapshot's ``db_statement_deltas``; ``dead_tuples`` and ``live_tuples``
    sum ``pg_stat_user_tables``; ``database_bytes`` is ``pg_database_size``.
    """

    id = models.BigAutoField(primary_key=True)
    taken_at = models.DateTimeField(unique=True)
    connections_used = models.IntegerField()
    connections_active = models.IntegerField()
    connections_idle_in_transaction = models.IntegerField()
    connections_waiting = models.IntegerField(help_text="client backends blocked by a lock")
    connections_usable = models.IntegerField()
    xact_commit = models.BigIntegerField()
    xact_rollback = models.BigIntegerField()
    blks_hit = models.BigIntegerField()
    blks_read = models.BigIntegerField()
    dead_tuples = models.BigIntegerField()
    live_tuples = models.BigIntegerField()
    database_bytes = models.BigIntegerField()
    statements_tracked = models.IntegerField(help_text="pg_stat_statements entries of this database")
    statement_calls = models.BigIntegerField(help_text="calls since the previous snapshot")
    statement_total_ms = models.FloatField(help_text="planning + execution ms since the previous snapshot")

    class Meta:
        db_table = "db_snapshots"
        ordering = ["-taken_at"]

    def __str__(self):
        return f"snapshot {self.taken_at:%Y-%m-%d %H:%M}"


class DbStatementCounter(models.Model):
    """The last cumulative ``pg_stat_statements`` counters seen per statement. Table ``db_statement_counters``.

    The baseline that the next snapshot subtracts from (deltas, never a
    reset of pg_stat_statements). One row per (userid, queryid) of this
    database, top-level and nested entries summed; ``query`` is redacted
    (``redact_query_text``) and cut to 2,000 characters. Staff-only RLS.
    """

    id = models.BigAutoField(primary_key=True)
    userid = models.BigIntegerField()
    queryid = models.BigIntegerField()
    query = models.TextField()
    calls = models.BigIntegerField()
    total_ms = models.FloatField()
    rows = models.BigIntegerField()
    shared_blks_hit = models.BigIntegerField()
    shared_blks_read = models.BigIntegerField()
    last_seen_at = models.DateTimeField()

    class Meta:
        db_table = "db_statement_counters"
        constraints = [models.UniqueConstraint(fields=["userid", "queryid"], name="db_statement_counters_identity")]

    def __str__(self):
        return f"{self.queryid}: {self.query[:60]}"


class DbStatementDelta(models.Model):
    """What one statement did between two consecutive snapshots. Table ``db_statement_deltas``.

    Only statements that ran in the interval get a row. A counter lower
    than its baseline (pg_stat_statements reset, or the entry evicted and
    re-created) counts from zero. ``total_ms`` is planning + execution (ms).
    Staff-only RLS; deleted with their snapshot.
    """

    id = models.BigAutoField(primary_key=True)
    snapshot = models.ForeignKey(DbSnapshot, on_delete=models.CASCADE, related_name="statement_deltas")
    userid = models.BigIntegerField()
    queryid = models.BigIntegerField()
    calls = models.BigIntegerField()
    total_ms = models.FloatField()
    rows = models.BigIntegerField()
    shared_blks_hit = models.BigIntegerField()
    shared_blks_read = models.BigIntegerField()

    class Meta:
        db_table = "db_statement_deltas"
        indexes = [models.Index(fields=["queryid", "snapshot"], name="db_statement_deltas_query")]

    def __str__(self):
        return f"{self.queryid}: {self.calls} calls"


class DbTableSnapshot(models.Model):
    """Per-table statistics at a snapshot (user tables of this database). Table ``db_table_snapshots``.

    ``seq_scan`` and ``idx_scan`` are cumulative counters; ``total_bytes``
    includes indexes and TOAST. Staff-only RLS; deleted with their snapshot.
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: db_table_snapshots_snap leads with snapshot_id.
    snapshot = models.ForeignKey(DbSnapshot, on_delete=models.CASCADE, related_name="tables", db_index=False)
    schema_name = models.CharField(max_length=63)
    table_name = models.CharField(max_length=63)
    n_live_tup = models.BigIntegerField()
    n_dead_tup = models.BigIntegerField()
    seq_scan = models.BigIntegerField()
    idx_scan = models.BigIntegerField(null=True)
    total_bytes = models.BigIntegerField()

    class Meta:
        db_table = "db_table_snapshots"
        indexes = [models.Index(fields=["snapshot", "schema_name", "table_name"], name="db_table_snapshots_snap")]

    def __str__(self):
        return f"{self.schema_name}.{self.table_name}"


class DatabasePerformance(models.Model):
    """Per query fingerprint and hour: what a statement cost. Table ``database_performance`` (WS-259, issue 18 §2).

    The fingerprint is pg_stat_statements' ``queryid`` (its hash of the normalized statement, constants
    replaced by ``$n``); ``query`` the redacted text (``db_statement_counters``). Filled by SQL
    ``rollup_database_performance(at, lookback)`` from the per-snapshot ``db_statement_deltas`` of
    the hour: ``calls``, ``total_ms`` (planning + execution, ms), ``mean_ms`` = total_ms / calls,
    ``rows``, shared buffer hits and reads and ``hit_ratio`` = hits / (hits + reads) (NULL without
    buffer access). Staff-only row-level security, like the rest of the database history.
    """

    id = models.BigAutoField(primary_key=True)
    bucket_start = models.DateTimeField()
    queryid = models.BigIntegerField()
    query = models.TextField(blank=True)
    calls = models.BigIntegerField()
    total_ms = models.FloatField()
    mean_ms = models.FloatField()
    rows = models.BigIntegerField()
    shared_blks_hit = models.BigIntegerField()
    shared_blks_read = models.BigIntegerField()
    hit_ratio = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "database_performance"
        ordering = ["-bucket_start", "-total_ms"]
        constraints = [models.UniqueConstraint(fields=["queryid", "bucket_start"], name="database_performance_key")]

    def __str__(self):
        return f"{self.queryid} {self.bucket_start:%Y-%m-%d %H:00}: {self.calls} calls"
