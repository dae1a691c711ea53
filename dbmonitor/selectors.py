"""Reads of database health that pages share.

Each selector reads one SQL object of ``dbmonitor/sql/0003_views.sql`` in the
caller's tenant context (it sets none itself): staff and service contexts see
the live statistics; any other context (vendor, none) gets empty lists and a
summary of zeros with status ``"unknown"``.
"""

from __future__ import annotations

import json

from django.db import connection

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


def database_summary() -> dict:
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
    """
    with connection.cursor() as cur:
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
    Only statements of this database with mean >= 100 ms (settings
    ``dbmonitor.slow_query_ms`` / ``dbmonitor.slow_query_min_calls`` change
    the thresholds). Empty when pg_stat_statements is unavailable.
    Raises ValueError for a bad ``limit``.
    """
    return _dicts(
        "SELECT * FROM monitoring_slow_queries ORDER BY mean_ms DESC, queryid LIMIT %s", [_check_limit(limit)]
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
