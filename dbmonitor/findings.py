"""Findings: the thresholds of ``dbmonitor.conf`` that the database breaches now, the input of alerts.

``findings()`` reads the checks of ``dbmonitor.selectors`` (looked up on that module when called, so
the two stay one set of reads) in the caller's tenant context: platform contexts get the breaches,
any other context an empty list. ``dbmonitor.services`` turns them into alerts; ``selectors.health_report``
shows them on ``/ops/db/`` and in the performance API.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection

from . import conf


@dataclass(frozen=True)
class Finding:
    """One breached threshold on one object.

    ``check``: a CHECKS key; ``object``: what breached it (``"pid 123"``,
    ``"public.orders"``, ``"database"``), stable while the condition lasts;
    ``severity``: ``warning`` or ``critical``; ``value`` and ``threshold``
    in ``unit``; ``details``: JSON-serialisable context.
    """

    check: str
    object: str
    severity: str
    message: str
    value: float | None = None
    threshold: float | None = None
    unit: str = ""
    details: dict = field(default_factory=dict)


#: The checks that raise alerts, with a one-line description for pages and alert annotations.
CHECKS = {
    "connections": "client connections against usable connections",
    "long_running_query": "a statement running for too long",
    "blocked_query": "a statement waiting for a lock held by another",
    "idle_in_transaction": "a session idle inside an open transaction",
    "cache_hit_ratio": "buffer-cache hit ratio of tables or indexes",
    "xid_wraparound": "transaction-ID age near a forced autovacuum or shutdown",
    "sequence_exhaustion": "a sequence near its column's maximum",
    "replication_lag": "a standby behind the primary",
    "rls_unprotected": "a tenant table without forced row-level security",
}


def findings(*, summary: dict | None = None, read: dict | None = None) -> list[Finding]:
    """Every threshold breach now, from the views and checks (platform contexts; empty otherwise).

    Thresholds are those of ``dbmonitor.conf``. One finding per object:
    a backend (pid plus its start so a reused pid is a new object), a
    table, a sequence, a standby, or the database. ``summary``: a
    ``database_summary()`` the caller read already in this transaction (saves
    reading pg_stat_statements again). ``read``: what the caller read already of
    ``cache_hit_ratios()``, ``replication()`` and ``rls_status()``, under those keys, and
    ``"sequences": (sequence_usage(limit) rows, limit)`` (``health_report`` passes its own; each
    saves a scan of the statistics or catalogs).
    """
    from . import selectors  # here, not at the top: selectors re-exports this module's names

    read = read or {}
    found: list[Finding] = []
    with connection.cursor() as cur:
        # pg_stat_activity and the cumulative statistics are read once per transaction; read them afresh.
        cur.execute("SELECT pg_stat_clear_snapshot()")
    summary = selectors.database_summary() if summary is None else summary
    used, usable = summary["connections"]["used"], summary["connections"]["max"]
    if usable > 0 and used > conf.CONNECTIONS_WARNING_RATIO * usable:
        critical = used > conf.CONNECTIONS_CRITICAL_RATIO * usable
        limit = conf.CONNECTIONS_CRITICAL_RATIO if critical else conf.CONNECTIONS_WARNING_RATIO
        found.append(
            Finding(
                "connections",
                "server",
                "critical" if critical else "warning",
                f"{used} of {usable} usable connections in use ({used / usable:.0%})",
                used / usable,
                limit,
                "ratio",
                {"used": used, "usable": usable},
            )
        )
    for row in selectors._dicts(
        "SELECT a.pid, a.query_start, a.backend_start,"
        " extract(epoch FROM clock_timestamp() - a.query_start)::float8 AS s,"
        " redact_query_text(normalize_query_text(a.query)) AS query, a.application_name, a.state"
        " FROM pg_stat_activity a WHERE app_is_platform() AND a.datname = current_database()"
        " AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()"
        " AND a.state IN ('active', 'fastpath function call') AND a.wait_event_type IS DISTINCT FROM 'Lock'"
        " AND a.query_start <= clock_timestamp() - make_interval(secs => %s)",
        [conf.LONG_RUNNING_QUERY_S],
    ):
        critical = row["s"] >= conf.LONG_RUNNING_QUERY_CRITICAL_S
        found.append(
            Finding(
                "long_running_query",
                _backend(row),
                "critical" if critical else "warning",
                f"pid {row['pid']} has been running for {row['s']:.0f} s: {row['query'][:200]}",
                row["s"],
                conf.LONG_RUNNING_QUERY_CRITICAL_S if critical else conf.LONG_RUNNING_QUERY_S,
                "s",
                {"pid": row["pid"], "application_name": row["application_name"], "query": row["query"][:1000]},
            )
        )
    for row in selectors._dicts(
        "SELECT a.pid, a.backend_start, a.query_start,"
        " extract(epoch FROM clock_timestamp() - a.query_start)::float8 AS s,"
        " redact_query_text(normalize_query_text(a.query)) AS query, pg_blocking_pids(a.pid) AS blockers"
        " FROM pg_stat_activity a WHERE app_is_platform() AND a.datname = current_database()"
        " AND a.wait_event_type = 'Lock' AND cardinality(pg_blocking_pids(a.pid)) > 0"
        " AND a.query_start <= clock_timestamp() - make_interval(secs => %s)",
        [conf.BLOCKED_QUERY_S],
    ):
        found.append(
            Finding(
                "blocked_query",
                _backend(row),
                "warning",
                f"pid {row['pid']} has waited {row['s']:.0f} s for a lock held by pid "
                f"{', '.join(map(str, row['blockers']))}: {row['query'][:200]}",
                row["s"],
                conf.BLOCKED_QUERY_S,
                "s",
                {"pid": row["pid"], "blocking_pids": list(row["blockers"]), "query": row["query"][:1000]},
            )
        )
    for row in selectors._dicts(
        "SELECT a.pid, a.backend_start, a.xact_start,"
        " extract(epoch FROM clock_timestamp() - a.state_change)::float8 AS s,"
        " a.application_name FROM pg_stat_activity a WHERE app_is_platform() AND a.datname = current_database()"
        " AND a.state LIKE 'idle in transaction%%' AND a.state_change <= clock_timestamp() - make_interval(secs => %s)",
        [conf.IDLE_IN_TRANSACTION_S],
    ):
        found.append(
            Finding(
                "idle_in_transaction",
                _backend(row, start="xact_start"),
                "warning",
                f"pid {row['pid']} ({row['application_name'] or 'no application_name'}) has been idle in a transaction"
                f" for {row['s']:.0f} s",
                row["s"],
                conf.IDLE_IN_TRANSACTION_S,
                "s",
                {"pid": row["pid"]},
            )
        )
    ratios = read["cache_hit_ratios"] if "cache_hit_ratios" in read else selectors.cache_hit_ratios()
    if ratios["blocks"] >= conf.CACHE_HIT_MIN_BLOCKS:
        for kind in ("table", "index"):
            ratio = ratios[f"{kind}_hit_ratio"]
            if ratio is not None and ratio < conf.CACHE_HIT_RATIO_MIN:
                found.append(
                    Finding(
                        "cache_hit_ratio",
                        kind,
                        "warning",
                        f"{kind} cache hit ratio {ratio:.2%} is under {conf.CACHE_HIT_RATIO_MIN:.0%}",
                        ratio,
                        conf.CACHE_HIT_RATIO_MIN,
                        "ratio",
                    )
                )
    for row in selectors._dicts(
        "SELECT * FROM monitoring_xid_wraparound() WHERE to_forced_autovacuum < %s OR to_shutdown < %s",
        [conf.XID_TO_FORCED_AUTOVACUUM_WARNING, conf.XID_TO_SHUTDOWN_CRITICAL],
    ):
        critical = row["to_shutdown"] < conf.XID_TO_SHUTDOWN_CRITICAL
        found.append(
            Finding(
                "xid_wraparound",
                f"{row['schema_name']}.{row['table_name']}",
                "critical" if critical else "warning",
                f"{row['schema_name']}.{row['table_name']}: transaction-ID age {row['xid_age']:,};"
                f" {row['to_forced_autovacuum']:,} to a forced autovacuum, {row['to_shutdown']:,} to shutdown",
                row["xid_age"],
                row["freeze_max_age"],
                "transactions",
                {"to_forced_autovacuum": row["to_forced_autovacuum"], "to_shutdown": row["to_shutdown"]},
            )
        )
    # ``read["sequences"]``: ``(sequence_usage(limit) rows, limit)``, most used first. They hold every
    # sequence over the warning ratio unless the list is full and its last one is still over it.
    listed, listed_limit = read.get("sequences", ([], 0))
    if listed_limit and (len(listed) < listed_limit or listed[-1]["used_ratio"] < conf.SEQUENCE_WARNING_RATIO):
        sequences = [row for row in listed if row["used_ratio"] >= conf.SEQUENCE_WARNING_RATIO]
    else:
        sequences = selectors._dicts(
            "SELECT * FROM monitoring_sequence_usage() WHERE used_ratio >= %s", [conf.SEQUENCE_WARNING_RATIO]
        )
    for row in sequences:
        critical = row["used_ratio"] >= conf.SEQUENCE_CRITICAL_RATIO
        found.append(
            Finding(
                "sequence_exhaustion",
                f"{row['schema_name']}.{row['sequence_name']}",
                "critical" if critical else "warning",
                f"sequence {row['schema_name']}.{row['sequence_name']} has used {row['used_ratio']:.1%} of"
                f" {row['max_value']:,}"
                + (f" ({row['table_name']}.{row['column_name']} {row['column_type']})" if row["table_name"] else ""),
                row["used_ratio"],
                conf.SEQUENCE_CRITICAL_RATIO if critical else conf.SEQUENCE_WARNING_RATIO,
                "ratio",
                {"last_value": row["last_value"], "max_value": row["max_value"]},
            )
        )
    for row in read["replication"] if "replication" in read else selectors.replication():
        lag = row["replay_lag_s"]
        if lag is not None and lag >= conf.REPLICATION_LAG_WARNING_S:
            critical = lag >= conf.REPLICATION_LAG_CRITICAL_S
            found.append(
                Finding(
                    "replication_lag",
                    f"{row['role']} {row['application_name']} {row['client_addr'] or ''}".strip(),
                    "critical" if critical else "warning",
                    f"{row['application_name']} replays {lag:.0f} s behind",
                    lag,
                    conf.REPLICATION_LAG_CRITICAL_S if critical else conf.REPLICATION_LAG_WARNING_S,
                    "s",
                )
            )
    for row in read["rls_status"] if "rls_status" in read else selectors.rls_status():
        if row["flagged"]:
            found.append(
                Finding(
                    "rls_unprotected",
                    f"{row['schema_name']}.{row['table_name']}",
                    "critical",
                    f"{row['schema_name']}.{row['table_name']} has organization_id but RLS"
                    f" enabled={row['rls_enabled']}, forced={row['rls_forced']}, policies={row['policy_count']}",
                )
            )
    return found


def _backend(row: dict, start: str = "query_start") -> str:
    """A backend's identity for a finding: its pid and when that statement (or transaction) started."""
    at = row.get(start) or row.get("backend_start")
    return f"pid {row['pid']} at {at.astimezone(dt.UTC).isoformat(timespec='microseconds') if at else '?'}"
