"""Configuration of the dbmonitor app, read from the environment (``environ.Env``).

Every value has a working default; units are in the names. Each threshold
says where its default comes from:

- PgHero: ``ankane/pghero``, ``lib/pghero.rb`` (``long_running_query_sec``
  60, ``slow_query_ms`` 20, ``slow_query_calls`` 100,
  ``total_connections_threshold`` 500, ``cache_hit_rate_threshold`` 99),
  ``lib/pghero/database.rb`` (``index_bloat_bytes`` 100 MB),
  ``lib/pghero/methods/indexes.rb`` (``unused_indexes(max_scans: 50)``,
  ``missing_indexes``: under 95% index scans on 10,000+ rows),
  ``lib/pghero/methods/maintenance.rb`` (``transaction_id_danger``: 10
  million transactions left; ``autovacuum_danger``: 2 million before
  ``autovacuum_freeze_max_age``), ``lib/pghero/methods/sequences.rb``
  (``sequence_danger(threshold: 0.9)``).
- The issue and this project (docs/design/): slow query = mean of 100 ms or
  more; connection pressure at 75% / 90% of usable connections (the
  summary's status rule, SQL ``monitoring_overall_status``).
- Where neither PgHero nor pganalyze publishes a default that we could
  check, the value is ours and says so (idle in transaction, blocked
  queries, replication lag); pganalyze's alert thresholds are configured
  per installation in its UI and are not restated here.
"""

import environ

env = environ.Env()

# --- Slow queries ---------------------------------------------------------------

#: Mean time per call (planning + execution, ms) from which a statement is slow. Default 100
#: (the issue; PgHero's default is 20 ms with 100 calls).
SLOW_QUERY_MS: float = env.float("DBMON_SLOW_QUERY_MS", default=100.0)

#: Calls a statement needs before it can be listed as slow. Default 1 (PgHero: 100).
SLOW_QUERY_MIN_CALLS: int = env.int("DBMON_SLOW_QUERY_MIN_CALLS", default=1)

# --- Activity -----------------------------------------------------------------------

#: Seconds after which a running statement is long-running (warning). Default 60 (PgHero
#: ``long_running_query_sec``).
LONG_RUNNING_QUERY_S: float = env.float("DBMON_LONG_RUNNING_QUERY_S", default=60.0)

#: Seconds after which a long-running statement is critical. Default 300 (ours: five times
#: PgHero's warning, and the 5-minute escalation delay of docs/design/tenancy-and-rls.md).
LONG_RUNNING_QUERY_CRITICAL_S: float = env.float("DBMON_LONG_RUNNING_QUERY_CRITICAL_S", default=300.0)

#: Seconds a backend may wait for a lock before it is reported as blocked (alert). Default 5
#: (ours; the page lists every waiting backend whatever its wait).
BLOCKED_QUERY_S: float = env.float("DBMON_BLOCKED_QUERY_S", default=5.0)

#: Seconds a session may stay ``idle in transaction`` before an alert. Default 300 (ours; the
#: page highlights the same age).
IDLE_IN_TRANSACTION_S: float = env.float("DBMON_IDLE_IN_TRANSACTION_S", default=300.0)

#: Share (0..1) of usable connections in use that is a warning / critical. Defaults 0.75 / 0.90
#: (the summary's status rule; PgHero's fixed count, ``total_connections_threshold`` 500, does not
#: scale with ``max_connections``).
CONNECTIONS_WARNING_RATIO: float = env.float("DBMON_CONNECTIONS_WARNING_RATIO", default=0.75)
CONNECTIONS_CRITICAL_RATIO: float = env.float("DBMON_CONNECTIONS_CRITICAL_RATIO", default=0.90)

# --- Cache and indexes -------------------------------------------------------------------

#: Lowest healthy buffer-cache hit ratio (0..1) of tables and of indexes. Default 0.99 (PgHero
#: ``cache_hit_rate_threshold`` 99%).
CACHE_HIT_RATIO_MIN: float = env.float("DBMON_CACHE_HIT_RATIO_MIN", default=0.99)

#: Blocks (hit + read) a ratio needs before it can raise an alert: a fresh server's ratio is noise.
#: Default 10,000 (ours).
CACHE_HIT_MIN_BLOCKS: int = env.int("DBMON_CACHE_HIT_MIN_BLOCKS", default=10_000)

#: Index scans up to which a non-unique index counts as unused. Default 50 (PgHero
#: ``unused_indexes(max_scans: 50)``).
UNUSED_INDEX_MAX_SCANS: int = env.int("DBMON_UNUSED_INDEX_MAX_SCANS", default=50)

#: Live rows from which a mostly sequentially scanned table is a missing-index candidate, and the
#: share of index scans (%) under which it is. Defaults 10,000 and 95 (PgHero ``missing_indexes``).
MISSING_INDEX_MIN_ROWS: int = env.int("DBMON_MISSING_INDEX_MIN_ROWS", default=10_000)
MISSING_INDEX_MAX_INDEX_PCT: float = env.float("DBMON_MISSING_INDEX_MAX_INDEX_PCT", default=95.0)

#: Estimated bloat (bytes) from which an index or table is listed as bloated. Default 100 MiB
#: (PgHero ``index_bloat_bytes`` 104857600).
BLOAT_MIN_BYTES: int = env.int("DBMON_BLOAT_MIN_BYTES", default=100 * 1024 * 1024)

# --- Wraparound, sequences, replication ----------------------------------------------------

#: Transactions left before a forced anti-wraparound autovacuum (``autovacuum_freeze_max_age`` -
#: age) under which a table is a warning. Default 2,000,000 (PgHero ``autovacuum_danger``).
XID_TO_FORCED_AUTOVACUUM_WARNING: int = env.int("DBMON_XID_TO_FORCED_AUTOVACUUM_WARNING", default=2_000_000)

#: Transactions left before PostgreSQL stops assigning XIDs under which a table is critical.
#: Default 10,000,000 (PgHero ``transaction_id_danger``).
XID_TO_SHUTDOWN_CRITICAL: int = env.int("DBMON_XID_TO_SHUTDOWN_CRITICAL", default=10_000_000)

#: Share (0..1) of a sequence's (or its column's) maximum used from which it is a warning; and
#: critical. Defaults 0.9 (PgHero ``sequence_danger``) and 0.98 (ours).
SEQUENCE_WARNING_RATIO: float = env.float("DBMON_SEQUENCE_WARNING_RATIO", default=0.9)
SEQUENCE_CRITICAL_RATIO: float = env.float("DBMON_SEQUENCE_CRITICAL_RATIO", default=0.98)

#: Replay lag (s) of a standby that is a warning / critical. Defaults 30 / 300 (ours; PgHero shows
#: the lag without a threshold).
REPLICATION_LAG_WARNING_S: float = env.float("DBMON_REPLICATION_LAG_WARNING_S", default=30.0)
REPLICATION_LAG_CRITICAL_S: float = env.float("DBMON_REPLICATION_LAG_CRITICAL_S", default=300.0)

# --- History ----------------------------------------------------------------------------------

#: Days of snapshots kept (``db_snapshots`` and their rows). Default 14 (the issue).
HISTORY_DAYS: int = env.int("DBMON_HISTORY_DAYS", default=14)

#: Hours of history the /ops/db/ trend charts show. Default 24.
TREND_HOURS: int = env.int("DBMON_TREND_HOURS", default=24)

#: Hours of statement deltas the "most time" table of /ops/db/ sums. Default 1 (summing 24 hours
#: of per-minute deltas costs ~50 ms a page view on a busy server; the charts still show 24 h).
TOP_STATEMENTS_HOURS: int = env.int("DBMON_TOP_STATEMENTS_HOURS", default=1)
