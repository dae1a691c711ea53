"""Reads of database health that pages share.

Each selector reads one SQL object of ``dbmonitor/sql/{views,functions}/`` in the
caller's tenant context (it sets none itself): staff and service contexts see
the live statistics; any other context (vendor, none) gets empty lists and a
summary of zeros with status ``"unknown"``. The threshold breaches built from these reads
(``Finding``, ``CHECKS``, ``findings``) live in ``dbmonitor.findings`` and are importable from here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json

from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from . import conf
from .findings import CHECKS, Finding, findings  # noqa: F401  (threshold breaches: dbmonitor.findings)
from .performance import top_queries  # noqa: F401  (issue 18: /ops/performance/'s costliest statements)

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


def _check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit: must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    return limit


def _dicts(sql: str, params: list | None = None) -> list[dict]:
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        names = [col.name for col in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def database_summary(counts: tuple[int, int, int] | None = None) -> dict:
    """``get_database_monitoring_summary()`` as a dict.

    Shape: ``{"status": "ok"|"warning"|"critical"|"unknown", "checked_at": iso str,
    "connections": {"used": int, "max": int, "idle_in_transaction": int},
    "slow_queries": int, "pg_stat_statements": bool,
    "tables_needing_vacuum": int, "rls_unprotected_tables": int, "open_events": int}``.

    ``connections.used`` and ``idle_in_transaction`` count client backends of
    the whole server; ``max`` is the usable connections (max_connections less
    the reserved ones). Status rule (SQL ``monitoring_overall_status``):
    ``critical`` when used > 90% of max or an unresolved critical/emergency
    event exists; ``warning`` when used > 75% of max, or any slow query, RLS
    unprotected table, table needing vacuum or unresolved warning event;
    else ``ok``.
    Staff and service contexts only: for any other context every count is 0,
    ``pg_stat_statements`` is False and status is ``"unknown"``.
    ``slow_queries`` counts with ``conf.SLOW_QUERY_MS`` / ``conf.SLOW_QUERY_MIN_CALLS``, set
    for the current transaction as ``dbmonitor.slow_query_ms`` / ``…_min_calls`` (the settings
    the view ``monitoring_slow_queries`` reads), so the count and ``slow_queries()`` agree.

    ``counts``: ``(slow_queries, tables_needing_vacuum, rls_unprotected_tables)`` the caller has
    counted from full reads of ``slow_queries``, ``table_health`` and ``rls_status`` in this
    transaction: the summary is then assembled from them (SQL ``monitoring_summary``) instead of
    reading pg_stat_statements and every table's size a second time.
    """
    if counts is not None:
        with connection.cursor() as cur:
            cur.execute("SELECT monitoring_summary(%s, %s, %s)", [int(c) for c in counts])
            (value,) = cur.fetchone()
        return json.loads(value) if isinstance(value, str | bytes) else value
    with connection.cursor() as cur:
        if connection.in_atomic_block:
            cur.execute(
                "SELECT set_config('dbmonitor.slow_query_ms', %s, true),"
                " set_config('dbmonitor.slow_query_min_calls', %s, true)",
                [str(conf.SLOW_QUERY_MS), str(conf.SLOW_QUERY_MIN_CALLS)],
            )
        cur.execute("SELECT get_database_monitoring_summary()")
        (value,) = cur.fetchone()
    return json.loads(value) if isinstance(value, str | bytes) else value


def pg_stat_statements_available() -> bool:
    """True when pg_stat_statements is created in this database and its library is preloaded."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_stat_statements_available()")
        return bool(cur.fetchone()[0])


def slow_queries(limit: int = DEFAULT_LIMIT) -> list[dict]:
    """Rows of ``monitoring_slow_queries``, slowest mean first, at most ``limit`` (1..1000).

    Row: ``{"source": "pg_stat_statements", "queryid": int, "role_name": str,
    "query": str (normalized, secrets redacted), "calls": int, "mean_ms": float,
    "total_ms": float (planning + execution), "rows": int, "shared_blks_hit": int,
    "shared_blks_read": int, "cache_hit_ratio": float 0..1 | None}``.
    Only statements of this database with mean >= ``conf.SLOW_QUERY_MS``
    (default 100 ms) and at least ``conf.SLOW_QUERY_MIN_CALLS`` calls
    (SQL ``monitoring_slow_query_rows``). Empty when pg_stat_statements is
    unavailable. Raises ValueError for a bad ``limit``.
    """
    return _dicts(
        "SELECT * FROM monitoring_slow_query_rows(%s, %s) ORDER BY mean_ms DESC, queryid LIMIT %s",
        [conf.SLOW_QUERY_MS, conf.SLOW_QUERY_MIN_CALLS, _check_limit(limit)],
    )


def connections() -> list[dict]:
    """Rows of ``monitoring_connections`` (client backends of this database), most connections first.

    Row: ``{"state": str ("active", "idle", "idle in transaction", … or "unknown"),
    "application_name": str, "connections": int,
    "oldest_idle_in_transaction_s": float | None, "longest_active_query_s": float | None,
    "max_connections": int, "usable_connections": int}``.
    """
    return _dicts("SELECT * FROM monitoring_connections ORDER BY connections DESC, state, application_name")


def table_health(limit: int = DEFAULT_LIMIT) -> list[dict]:
    """Rows of ``monitoring_table_health``, most dead tuples first, at most ``limit`` (1..1000).

    Row: ``{"schema_name", "table_name": str, "n_live_tup", "n_dead_tup": int,
    "dead_ratio": float 0..1, "last_vacuum", "last_autovacuum", "last_analyze",
    "last_autoanalyze": datetime | None, "vacuum_lag_s": float | None (never vacuumed),
    "table_bytes", "total_bytes": int, "needs_vacuum": bool}``.
    Raises ValueError for a bad ``limit``.
    """
    return _dicts(
        "SELECT * FROM monitoring_table_health ORDER BY n_dead_tup DESC, schema_name, table_name LIMIT %s",
        [_check_limit(limit)],
    )


def rls_status() -> list[dict]:
    """Rows of ``monitoring_rls_status`` (tables of ``public``, partitions skipped), flagged first.

    Row: ``{"schema_name", "table_name": str, "rls_enabled", "rls_forced": bool,
    "policy_count": int, "has_organization_id": bool, "flagged": bool}``;
    ``flagged``: has ``organization_id`` but RLS is not enabled and forced, or no policy.
    """
    return _dicts("SELECT * FROM monitoring_rls_status ORDER BY flagged DESC, table_name")


# --- Checks (dbmonitor/sql/functions/monitoring_*.sql; thresholds from dbmonitor/conf.py) -------------------


def long_running_queries(min_s: float | None = None) -> list[dict]:
    """Statements of this database running for at least ``min_s`` seconds (default
    ``conf.LONG_RUNNING_QUERY_S``), oldest first.

    Row: ``{"pid": int, "role_name", "application_name", "state", "wait_event_type",
    "wait_event": str | None, "duration_s": float, "query": str (redacted)}``.
    """
    return _dicts(
        "SELECT * FROM monitoring_long_running_queries(%s)",
        [conf.LONG_RUNNING_QUERY_S if min_s is None else float(min_s)],
    )


def blocked_queries() -> list[dict]:
    """Backends of this database waiting for a lock, one row per (blocked, blocking) pair.

    Row: ``{"blocked_pid": int, "blocked_role", "blocked_application": str, "blocked_s": float,
    "blocked_query": str, "blocking_pid": int, "blocking_role", "blocking_application",
    "blocking_state": str, "blocking_s": float (the blocker's transaction age),
    "blocking_query": str}``; queries redacted.
    """
    return _dicts("SELECT * FROM monitoring_blocked_queries()")


def cache_hit_ratios() -> dict:
    """``{"table_hit_ratio": float 0..1 | None, "index_hit_ratio": float 0..1 | None,
    "blocks": int}``: buffer-cache hit ratios of user tables and indexes since the stats reset
    (None: nothing read yet); ``blocks`` = hits + reads of both (how much the ratios weigh)."""
    rows = _dicts(
        "SELECT r.table_hit_ratio, r.index_hit_ratio,"
        " (SELECT coalesce(sum(heap_blks_hit + heap_blks_read), 0) FROM pg_statio_user_tables WHERE app_is_platform())"
        " + (SELECT coalesce(sum(idx_blks_hit + idx_blks_read), 0) FROM pg_statio_user_indexes WHERE app_is_platform())"
        " AS blocks FROM monitoring_cache_hit_ratios() r"
    )
    row = rows[0]
    row["blocks"] = int(row["blocks"] or 0)
    return row


def unused_indexes(max_scans: int | None = None, limit: int = DEFAULT_LIMIT) -> list[dict]:
    """Non-unique indexes scanned at most ``max_scans`` times (default ``conf.UNUSED_INDEX_MAX_SCANS``),
    biggest first. Row: ``{"schema_name", "table_name", "index_name": str, "index_scans": int,
    "index_bytes": int}``. Raises ValueError for a bad ``limit``."""
    return _dicts(
        "SELECT * FROM monitoring_unused_indexes(%s) LIMIT %s",
        [conf.UNUSED_INDEX_MAX_SCANS if max_scans is None else int(max_scans), _check_limit(limit)],
    )


def duplicate_indexes() -> list[dict]:
    """Indexes covered by another index of the same table. Row: ``{"schema_name", "table_name",
    "index_name", "covering_index_name": str, "index_bytes": int, "index_def", "covering_index_def": str}``."""
    return _dicts("SELECT * FROM monitoring_duplicate_indexes()")


def missing_index_candidates() -> list[dict]:
    """Tables of ``conf.MISSING_INDEX_MIN_ROWS``+ live rows scanned mostly sequentially (index scans
    under ``conf.MISSING_INDEX_MAX_INDEX_PCT`` %). Row: ``{"schema_name", "table_name": str, "seq_scan",
    "seq_tup_read", "idx_scan": int, "percent_index_used": float | None, "n_live_tup": int}``."""
    return _dicts(
        "SELECT * FROM monitoring_missing_index_candidates(%s, %s)",
        [conf.MISSING_INDEX_MIN_ROWS, conf.MISSING_INDEX_MAX_INDEX_PCT],
    )


def table_bloat(limit: int = DEFAULT_LIMIT) -> list[dict]:
    """Estimated heap bloat of analyzed tables, most first. Row: ``{"schema_name", "table_name": str,
    "table_bytes", "expected_bytes", "bloat_bytes": int, "bloat_ratio": float 0..1, "flagged": bool}``;
    ``flagged``: bloat_bytes >= ``conf.BLOAT_MIN_BYTES``."""
    rows = _dicts("SELECT * FROM monitoring_table_bloat() LIMIT %s", [_check_limit(limit)])
    for row in rows:
        row["flagged"] = row["bloat_bytes"] >= conf.BLOAT_MIN_BYTES
    return rows


def index_bloat(limit: int = DEFAULT_LIMIT) -> list[dict]:
    """Estimated bloat of btree indexes, most first. Row: ``{"schema_name", "table_name",
    "index_name": str, "index_bytes", "expected_bytes", "bloat_bytes": int, "bloat_ratio": float,
    "flagged": bool}``; ``flagged``: bloat_bytes >= ``conf.BLOAT_MIN_BYTES`` (PgHero index_bloat_bytes)."""
    rows = _dicts("SELECT * FROM monitoring_index_bloat() LIMIT %s", [_check_limit(limit)])
    for row in rows:
        row["flagged"] = row["bloat_bytes"] >= conf.BLOAT_MIN_BYTES
    return rows


def xid_wraparound(limit: int = 10) -> list[dict]:
    """Tables with the oldest transaction-ID age first. Row: ``{"schema_name", "table_name": str,
    "xid_age", "freeze_max_age", "to_forced_autovacuum", "to_shutdown": int, "age_ratio": float}``
    (transactions; see SQL ``monitoring_xid_wraparound``). Raises ValueError for a bad ``limit``."""
    return _dicts("SELECT * FROM monitoring_xid_wraparound() LIMIT %s", [_check_limit(limit)])


def sequence_usage(limit: int = DEFAULT_LIMIT) -> list[dict]:
    """Sequences, most used first. Row: ``{"schema_name", "sequence_name": str, "table_name",
    "column_name", "column_type": str | None, "last_value", "max_value": int, "used_ratio": float 0..1}``."""
    return _dicts("SELECT * FROM monitoring_sequence_usage() LIMIT %s", [_check_limit(limit)])


def replication() -> list[dict]:
    """Standbys of this primary, or this standby's replay delay; empty without replication.
    Row: ``{"role": "primary"|"standby", "application_name", "client_addr", "state",
    "write_lag_s", "flush_lag_s", "replay_lag_s": float | None (s), "replay_lag_bytes": Decimal | None}``."""
    return _dicts("SELECT * FROM monitoring_replication()")


def stats_info() -> dict | None:
    """``{"database_stats_reset": iso str | None, "server_started_at": iso str,
    "pg_stat_statements_max": int | None, "pg_stat_statements": {"stats_reset": iso str,
    "dealloc": int} | None}``; None outside a platform context."""
    with connection.cursor() as cur:
        cur.execute("SELECT monitoring_stats_info()")
        (value,) = cur.fetchone()
    return json.loads(value) if isinstance(value, str | bytes) else value


# --- History -----------------------------------------------------------------------------------------


def snapshot_trends(*, now: dt.datetime, hours: int | None = None, top_hours: int | None = None) -> dict:
    """Per-minute trends of the snapshots of the last ``hours`` (default ``conf.TREND_HOURS``) before ``now``.

    Returns ``{"points": [{"taken_at": datetime, "connections_used": int, "connections_active": int,
    "connections_idle_in_transaction": int, "connections_waiting": int, "dead_tuples": int,
    "statement_calls": int, "statement_total_ms": float, "cache_hit_ratio": float 0..1 | None,
    "commits_per_s": float | None}], "top_statements": [...]}``, oldest point first.
    ``cache_hit_ratio`` and ``commits_per_s`` are from the difference with the previous snapshot
    (``blks_hit / (blks_hit + blks_read)`` and ``xact_commit / seconds``); None for the first point
    or after a counter reset. ``top_statements``: the 10 statements with the most ``total_ms`` in the
    last ``top_hours`` (default ``conf.TOP_STATEMENTS_HOURS``, 1) before ``now``,
    ``{"queryid": int, "query": str | None, "calls": int, "total_ms": float, "mean_ms": float}``
    (per role and statement). Staff-only rows.
    """
    hours = conf.TREND_HOURS if hours is None else hours
    top_hours = conf.TOP_STATEMENTS_HOURS if top_hours is None else top_hours
    since = now - dt.timedelta(hours=hours)
    points = _dicts(
        """
        SELECT taken_at, connections_used, connections_active, connections_idle_in_transaction,
               connections_waiting, dead_tuples, statement_calls, statement_total_ms,
               CASE WHEN blks_hit - lag(blks_hit) OVER w >= 0 AND blks_read - lag(blks_read) OVER w >= 0
                         AND (blks_hit + blks_read) - (lag(blks_hit) OVER w + lag(blks_read) OVER w) > 0
                    THEN (blks_hit - lag(blks_hit) OVER w)::float8
                         / ((blks_hit + blks_read) - (lag(blks_hit) OVER w + lag(blks_read) OVER w)) END
                 AS cache_hit_ratio,
               CASE WHEN xact_commit - lag(xact_commit) OVER w >= 0
                    THEN (xact_commit - lag(xact_commit) OVER w)
                         / NULLIF(extract(epoch FROM taken_at - lag(taken_at) OVER w), 0) END AS commits_per_s
        FROM db_snapshots
        WHERE taken_at > %s - interval '1 minute' AND taken_at <= %s
        WINDOW w AS (ORDER BY taken_at)
        ORDER BY taken_at
        """,
        [since, now],
    )
    points = [p for p in points if p["taken_at"] > since]
    # Aggregate the deltas first and look up the text of the ten winners only.
    top = _dicts(
        """
        WITH top AS (
          SELECT d.userid, d.queryid, sum(d.calls)::bigint AS calls, sum(d.total_ms) AS total_ms
          FROM db_statement_deltas d
          JOIN db_snapshots s ON s.id = d.snapshot_id
          WHERE s.taken_at > %s AND s.taken_at <= %s
          GROUP BY d.userid, d.queryid
          ORDER BY sum(d.total_ms) DESC, d.queryid
          LIMIT 10
        )
        SELECT top.queryid, c.query, top.calls, top.total_ms, top.total_ms / NULLIF(top.calls, 0) AS mean_ms
        FROM top LEFT JOIN db_statement_counters c ON c.userid = top.userid AND c.queryid = top.queryid
        ORDER BY top.total_ms DESC, top.queryid
        """,
        [now - dt.timedelta(hours=top_hours), now],
    )
    return {"points": points, "top_statements": top}


# --- Django migrations -----------------------------------------------------------------------------------


def migrations_status() -> list[dict]:
    """Every migration Django knows, in the order they apply, with whether it is applied.

    Row: ``{"app": str, "name": str, "applied": bool, "applied_at": datetime | None}``.
    The order comes from the migration files (``_migration_plan``, read once per process: the
    files a process runs cannot change under it); what is applied from the ``django_migrations``
    table (``MigrationRecorder``, one query each time). Unapplied rows are what ``migrate`` would run.
    """
    applied = MigrationRecorder(connection).applied_migrations()
    rows = []
    for key in _migration_plan():
        record = applied.get(key)
        rows.append(
            {
                "app": key[0],
                "name": key[1],
                "applied": record is not None,
                "applied_at": getattr(record, "applied", None),
            }
        )
    return rows


@functools.cache
def _migration_plan() -> tuple[tuple[str, str], ...]:
    """``(app, name)`` of every migration on disk in apply order (each leaf's forwards plan, leaves sorted).

    Built from the files alone (``MigrationLoader(None)``: 20 ms of graph building that the page paid
    on every view before). The project squashes no migrations, so the graph does not depend on what
    is applied.
    """
    loader = MigrationLoader(None, ignore_no_migrations=True)
    seen: set = set()
    plan = []
    for leaf in sorted(loader.graph.leaf_nodes()):
        for key in loader.graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                plan.append(key)
    return tuple(plan)


# --- The page and the API (dbmonitor.views, dbmonitor.api) ---------------------------------------


SEQUENCES_SHOWN = 10  # the most used sequences the page and the API list


def health_report(*, limit: int = 50) -> dict:
    """Everything the page and the API show, read in the caller's (staff) context.

    Shape: ``{"summary": dict (database_summary), "slow_queries", "connections",
    "table_health", "rls_status": lists of the four views' rows (at most ``limit`` for the
    limited ones), "checks": {"long_running_queries", "blocked_queries", "unused_indexes",
    "duplicate_indexes", "missing_index_candidates", "table_bloat", "index_bloat",
    "xid_wraparound", "sequences", "replication": lists, "cache_hit_ratios",
    "stats_info": dicts}, "findings": [Finding as dict], "thresholds": {name: value}}``
    (row shapes: the selectors of the same names).
    """
    # Read in full once: the summary's three costly counts come from these rows (database_summary),
    # unless a list reached MAX_LIMIT rows and may be cut short: then the summary counts on its own.
    slow = slow_queries(limit=MAX_LIMIT)
    tables = table_health(limit=MAX_LIMIT)
    rls = rls_status()
    complete = len(slow) < MAX_LIMIT and len(tables) < MAX_LIMIT
    summary = database_summary(
        counts=(len(slow), sum(bool(t["needs_vacuum"]) for t in tables), sum(bool(r["flagged"]) for r in rls))
        if complete
        else None
    )
    checks = {
        "long_running_queries": long_running_queries(),
        "blocked_queries": blocked_queries(),
        "cache_hit_ratios": cache_hit_ratios(),
        "unused_indexes": unused_indexes(limit=limit),
        "duplicate_indexes": duplicate_indexes(),
        "missing_index_candidates": missing_index_candidates(),
        "table_bloat": table_bloat(limit=10),
        "index_bloat": index_bloat(limit=10),
        "xid_wraparound": xid_wraparound(limit=5),
        "sequences": sequence_usage(limit=SEQUENCES_SHOWN),
        "replication": replication(),
        "stats_info": stats_info(),
    }
    read = {
        "cache_hit_ratios": checks["cache_hit_ratios"],
        "replication": checks["replication"],
        "rls_status": rls,
        "sequences": (checks["sequences"], SEQUENCES_SHOWN),
    }
    return {
        "summary": summary,
        "slow_queries": slow[:limit],
        "connections": connections(),
        "table_health": tables[:limit],
        "rls_status": rls,
        "checks": checks,
        "findings": [dataclasses.asdict(f) for f in findings(summary=summary, read=read)],
        "thresholds": {name: getattr(conf, name) for name in dir(conf) if name.isupper()},
    }
