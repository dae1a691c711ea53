-- Health checks at the level of PgHero and pganalyze, and the history
-- (snapshots) of the statistics. Platform contexts (app.role staff or
-- service) alone: every function here returns zero rows (or NULLs) to a
-- vendor context or to the application role without a context, and the
-- snapshot tables are staff-only.
--
-- Thresholds are arguments, passed by dbmonitor/selectors.py from
-- dbmonitor/conf.py, where each default and its source is documented.
--
-- Objects:
--   monitoring_long_running_queries(min_s)        statements running >= min_s seconds
--   monitoring_blocked_queries()                   waiting backends and who blocks them
--   monitoring_cache_hit_ratios()                  table and index buffer-cache hit ratios
--   monitoring_unused_indexes(max_scans)           non-unique indexes scanned <= max_scans times
--   monitoring_duplicate_indexes()                 indexes covered by another index
--   monitoring_missing_index_candidates(min_rows, max_index_pct)
--   monitoring_table_bloat()                       estimated heap bloat per table
--   monitoring_index_bloat()                       estimated btree bloat per index
--   monitoring_xid_wraparound()                    transaction-ID age per table
--   monitoring_sequence_usage()                    sequences against their column's type limit
--   monitoring_replication()                       standbys (primary) or replay delay (standby)
--   monitoring_stats_info()                        stats reset times, server start
--   capture_db_snapshot(at) -> bigint, cleanup_db_snapshots(older_than) -> integer

SELECT apply_staff_only_rls('db_snapshots');
SELECT apply_staff_only_rls('db_statement_counters');
SELECT apply_staff_only_rls('db_statement_deltas');
SELECT apply_staff_only_rls('db_table_snapshots');


-- Statements of this database (other backends) that have been running for
-- at least min_s seconds (state active or fastpath; idle-in-transaction
-- sessions are reported by monitoring_connections). duration_s is from
-- query_start to clock_timestamp(); query is redacted.
CREATE FUNCTION monitoring_long_running_queries(min_s double precision DEFAULT 60)
RETURNS TABLE (
  pid integer, role_name name, application_name text, state text, wait_event_type text, wait_event text,
  duration_s double precision, query text
)
LANGUAGE sql STABLE AS $$
  SELECT a.pid, a.usename, a.application_name, a.state, a.wait_event_type, a.wait_event,
         extract(epoch FROM clock_timestamp() - a.query_start)::double precision,
         redact_query_text(a.query)
  FROM pg_stat_activity a
  WHERE app_is_platform() AND a.datname = current_database() AND a.backend_type = 'client backend'
    AND a.pid <> pg_backend_pid() AND a.state IN ('active', 'fastpath function call')
    AND a.query_start <= clock_timestamp() - make_interval(secs => min_s)
  ORDER BY a.query_start
$$;


-- Backends of this database waiting for a lock, one row per (blocked,
-- blocking) pair (pg_blocking_pids). Durations in seconds: blocked_s since
-- the blocked statement started, blocking_s since the blocker's transaction
-- started (a lock is held until its transaction ends).
CREATE FUNCTION monitoring_blocked_queries()
RETURNS TABLE (
  blocked_pid integer, blocked_role name, blocked_application text, blocked_s double precision, blocked_query text,
  blocking_pid integer, blocking_role name, blocking_application text, blocking_state text,
  blocking_s double precision, blocking_query text
)
LANGUAGE sql STABLE AS $$
  SELECT w.pid, w.usename, w.application_name,
         extract(epoch FROM clock_timestamp() - w.query_start)::double precision, redact_query_text(w.query),
         b.pid, b.usename, b.application_name, b.state,
         extract(epoch FROM clock_timestamp() - coalesce(b.xact_start, b.query_start))::double precision,
         redact_query_text(b.query)
  FROM pg_stat_activity w
  CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocker(pid)
  JOIN pg_stat_activity b ON b.pid = blocker.pid
  WHERE app_is_platform() AND w.datname = current_database() AND w.wait_event_type = 'Lock'
  ORDER BY w.query_start, b.pid
$$;


-- Buffer-cache hit ratios (0..1) of this database's user tables (heap) and
-- indexes since the statistics were last reset: hit / (hit + read); NULL
-- when nothing was read yet. Same formulas as PgHero's table_hit_rate and
-- index_hit_rate.
CREATE FUNCTION monitoring_cache_hit_ratios(
  OUT table_hit_ratio double precision, OUT index_hit_ratio double precision
)
LANGUAGE sql STABLE AS $$
  SELECT (SELECT sum(heap_blks_hit)::double precision / NULLIF(sum(heap_blks_hit + heap_blks_read), 0)
          FROM pg_statio_user_tables WHERE app_is_platform()),
         (SELECT sum(idx_blks_hit)::double precision / NULLIF(sum(idx_blks_hit + idx_blks_read), 0)
          FROM pg_statio_user_indexes WHERE app_is_platform())
$$;


-- Non-unique (so not primary-key) valid indexes of user tables scanned at
-- most max_scans times since the statistics were reset, biggest first
-- (PgHero unused_indexes). An index that only enforces a constraint is
-- unique and never listed.
CREATE FUNCTION monitoring_unused_indexes(max_scans bigint DEFAULT 50)
RETURNS TABLE (schema_name text, table_name text, index_name text, index_scans bigint, index_bytes bigint)
LANGUAGE sql STABLE AS $$
  SELECT s.schemaname::text, s.relname::text, s.indexrelname::text, s.idx_scan, pg_relation_size(s.indexrelid)
  FROM pg_stat_user_indexes s
  JOIN pg_index i ON i.indexrelid = s.indexrelid
  WHERE app_is_platform() AND NOT i.indisunique AND i.indisvalid AND s.idx_scan <= max_scans
    AND s.schemaname NOT LIKE 'pg\_temp\_%'
  ORDER BY pg_relation_size(s.indexrelid) DESC, s.relname, s.indexrelname
$$;


-- Indexes made unnecessary by another index of the same table and access
-- method whose key columns start with all of theirs (PgHero
-- duplicate_indexes): neither has expressions or a predicate, both are
-- valid, the redundant one is neither unique nor primary; of two identical
-- indexes the one with the later name is listed.
CREATE FUNCTION monitoring_duplicate_indexes()
RETURNS TABLE (
  schema_name text, table_name text, index_name text, covering_index_name text, index_bytes bigint,
  index_def text, covering_index_def text
)
LANGUAGE sql STABLE AS $$
  SELECT n.nspname::text, t.relname::text, ic.relname::text, cc.relname::text, pg_relation_size(ic.oid),
         pg_get_indexdef(ic.oid), pg_get_indexdef(cc.oid)
  FROM pg_index a
  JOIN pg_index b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
  JOIN pg_class ic ON ic.oid = a.indexrelid
  JOIN pg_class cc ON cc.oid = b.indexrelid
  JOIN pg_class t ON t.oid = a.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
  WHERE app_is_platform()
    AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\_temp\_%'
    AND NOT a.indisunique AND NOT a.indisprimary AND a.indisvalid AND b.indisvalid
    AND a.indexprs IS NULL AND a.indpred IS NULL AND b.indexprs IS NULL AND b.indpred IS NULL
    AND ic.relam = cc.relam
    AND (' ' || b.indkey::text || ' ') LIKE (' ' || a.indkey::text || ' %')
    AND (a.indkey::text <> b.indkey::text OR ic.relname > cc.relname)
  ORDER BY t.relname, ic.relname
$$;


-- Tables with at least min_rows live rows whose scans are mostly
-- sequential: percent_index_used = 100 × idx_scan / (seq_scan + idx_scan)
-- below max_index_pct, or no index scan at all (PgHero missing_indexes:
-- 10,000 rows, 95%). Candidates for an index, not proof.
CREATE FUNCTION monitoring_missing_index_candidates(min_rows bigint DEFAULT 10000, max_index_pct double precision DEFAULT 95)
RETURNS TABLE (
  schema_name text, table_name text, seq_scan bigint, seq_tup_read bigint, idx_scan bigint,
  percent_index_used double precision, n_live_tup bigint
)
LANGUAGE sql STABLE AS $$
  SELECT s.schemaname::text, s.relname::text, s.seq_scan, s.seq_tup_read, coalesce(s.idx_scan, 0),
         100.0 * coalesce(s.idx_scan, 0) / NULLIF(s.seq_scan + coalesce(s.idx_scan, 0), 0),
         s.n_live_tup
  FROM pg_stat_user_tables s
  WHERE app_is_platform() AND s.n_live_tup >= min_rows AND s.seq_scan > 0
    AND 100.0 * coalesce(s.idx_scan, 0) / (s.seq_scan + coalesce(s.idx_scan, 0)) < max_index_pct
    AND s.schemaname NOT LIKE 'pg\_temp\_%'
  ORDER BY s.seq_tup_read DESC, s.relname
$$;


-- Estimated heap bloat of analyzed user tables: expected_bytes =
-- pages needed for reltuples rows of (23-byte header + null bitmap,
-- MAXALIGNed to 24, + sum of pg_stats.avg_width, MAXALIGNed to 8, + a
-- 4-byte line pointer) on (block_size - 24)-byte pages at the table's
-- fillfactor (default 100); bloat_bytes = greatest(actual - expected, 0).
-- The simplified form of the well-known estimate (ioguix/pgsql-bloat-
-- estimation); it ignores TOAST and alignment padding between columns, so
-- treat small tables and small ratios as noise. Tables without statistics
-- (never analyzed) are left out.
CREATE FUNCTION monitoring_table_bloat()
RETURNS TABLE (
  schema_name text, table_name text, table_bytes bigint, expected_bytes bigint, bloat_bytes bigint,
  bloat_ratio double precision
)
LANGUAGE sql STABLE AS $$
  WITH t AS (
    SELECT c.oid, n.nspname, c.relname, c.reltuples, pg_relation_size(c.oid) AS table_bytes,
           coalesce((SELECT substring(o FROM 'fillfactor=(\d+)')::int FROM unnest(c.reloptions) o
                     WHERE o LIKE 'fillfactor=%'), 100) AS fillfactor,
           (SELECT sum(s.avg_width) FROM pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = c.relname
              AND NOT s.inherited) AS data_width,
           current_setting('block_size')::bigint AS bs
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE app_is_platform() AND c.relkind = 'r'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\_temp\_%'
      AND c.reltuples >= 0
  ), e AS (
    SELECT t.*, ceil(greatest(t.reltuples, 0) * (24 + ceil(t.data_width / 8.0) * 8 + 4)
                     / ((t.bs - 24) * t.fillfactor / 100.0)) * t.bs AS expected
    FROM t WHERE t.data_width IS NOT NULL
  )
  SELECT e.nspname::text, e.relname::text, e.table_bytes, e.expected::bigint,
         greatest(e.table_bytes - e.expected, 0)::bigint,
         CASE WHEN e.table_bytes > 0 THEN greatest(e.table_bytes - e.expected, 0) / e.table_bytes::double precision
              ELSE 0 END
  FROM e
  ORDER BY greatest(e.table_bytes - e.expected, 0) DESC, e.relname
$$;


-- Estimated bloat of btree indexes on plain columns of analyzed tables:
-- expected_bytes = (1 metapage + leaf pages for reltuples entries of
-- (8-byte IndexTuple header + sum of the key columns' avg_width, MAXALIGNed,
-- + 4-byte line pointer) on (block_size - 24 - 16)-byte pages at the index
-- fillfactor, default 90) × block_size; same caveats as the table estimate.
CREATE FUNCTION monitoring_index_bloat()
RETURNS TABLE (
  schema_name text, table_name text, index_name text, index_bytes bigint, expected_bytes bigint,
  bloat_bytes bigint, bloat_ratio double precision
)
LANGUAGE sql STABLE AS $$
  WITH i AS (
    SELECT n.nspname, t.relname AS table_name, ic.relname AS index_name, ic.reltuples,
           pg_relation_size(ic.oid) AS index_bytes,
           coalesce((SELECT substring(o FROM 'fillfactor=(\d+)')::int FROM unnest(ic.reloptions) o
                     WHERE o LIKE 'fillfactor=%'), 90) AS fillfactor,
           (SELECT sum(s.avg_width) FROM unnest(x.indkey::int2[]) AS k(attnum)
              JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
              JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = t.relname AND s.attname = a.attname
                             AND NOT s.inherited) AS key_width,
           (SELECT count(*) FROM unnest(x.indkey::int2[]) AS k(attnum)) AS key_count,
           current_setting('block_size')::bigint AS bs
    FROM pg_index x
    JOIN pg_class ic ON ic.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_am am ON am.oid = ic.relam
    WHERE app_is_platform() AND am.amname = 'btree' AND x.indexprs IS NULL AND ic.reltuples >= 0
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\_temp\_%'
  ), e AS (
    SELECT i.*, (1 + ceil(greatest(i.reltuples, 0) * (8 + ceil(i.key_width / 8.0) * 8 + 4)
                         / ((i.bs - 40) * i.fillfactor / 100.0))) * i.bs AS expected
    FROM i WHERE i.key_width IS NOT NULL
  )
  SELECT e.nspname::text, e.table_name::text, e.index_name::text, e.index_bytes, e.expected::bigint,
         greatest(e.index_bytes - e.expected, 0)::bigint,
         CASE WHEN e.index_bytes > 0 THEN greatest(e.index_bytes - e.expected, 0) / e.index_bytes::double precision
              ELSE 0 END
  FROM e
  ORDER BY greatest(e.index_bytes - e.expected, 0) DESC, e.index_name
$$;


-- Transaction-ID age of this database's tables (with their TOAST table),
-- oldest first: xid_age = greatest(age(relfrozenxid)) of the table and its
-- TOAST; freeze_max_age = autovacuum_freeze_max_age (the table's own
-- setting when it has one); to_forced_autovacuum = freeze_max_age - xid_age
-- (PgHero autovacuum_danger); to_shutdown = 2^31 - 1,000,000 - xid_age =
-- 2146483648 - xid_age (PgHero transaction_id_danger: PostgreSQL stops
-- assigning XIDs 1 million before wraparound, docs "Preventing Transaction
-- ID Wraparound Failures"). Includes system catalogs: they wrap too.
CREATE FUNCTION monitoring_xid_wraparound()
RETURNS TABLE (
  schema_name text, table_name text, xid_age bigint, freeze_max_age bigint, to_forced_autovacuum bigint,
  to_shutdown bigint, age_ratio double precision
)
LANGUAGE sql STABLE AS $$
  WITH t AS (
    SELECT n.nspname, c.relname,
           greatest(age(c.relfrozenxid), age(tc.relfrozenxid))::bigint AS xid_age,
           coalesce((SELECT substring(o FROM 'autovacuum_freeze_max_age=(\d+)')::bigint FROM unnest(c.reloptions) o
                     WHERE o LIKE 'autovacuum_freeze_max_age=%'),
                    current_setting('autovacuum_freeze_max_age')::bigint) AS freeze_max_age
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid
    WHERE app_is_platform() AND c.relkind IN ('r', 'm') AND n.nspname NOT LIKE 'pg\_temp\_%'
  )
  SELECT t.nspname::text, t.relname::text, t.xid_age, t.freeze_max_age, t.freeze_max_age - t.xid_age,
         2146483648 - t.xid_age, t.xid_age / t.freeze_max_age::double precision
  FROM t
  ORDER BY t.xid_age DESC, t.relname
$$;


-- Sequences of this database against the limit of what they feed:
-- max_value = the smaller of the sequence's own maximum and the maximum of
-- the column that owns it (smallint 32767, integer 2147483647, bigint
-- 9223372036854775807; serial and identity columns), used_ratio =
-- last_value / max_value (0 before the first nextval). PgHero
-- sequence_danger compares the same ratio with 0.9.
CREATE FUNCTION monitoring_sequence_usage()
RETURNS TABLE (
  schema_name text, sequence_name text, table_name text, column_name text, column_type text,
  last_value bigint, max_value bigint, used_ratio double precision
)
LANGUAGE sql STABLE AS $$
  WITH s AS (
    SELECT ps.schemaname, ps.sequencename, t.relname AS table_name, a.attname AS column_name,
           format_type(a.atttypid, a.atttypmod) AS column_type,
           coalesce(ps.last_value, 0) AS last_value,
           least(ps.max_value, CASE a.atttypid WHEN 'int2'::regtype THEN 32767
                                               WHEN 'int4'::regtype THEN 2147483647
                                               ELSE 9223372036854775807 END) AS max_value
    FROM pg_sequences ps
    JOIN pg_class sc ON sc.relname = ps.sequencename
    JOIN pg_namespace sn ON sn.oid = sc.relnamespace AND sn.nspname = ps.schemaname
    LEFT JOIN pg_depend d ON d.objid = sc.oid AND d.classid = 'pg_class'::regclass
                         AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
    LEFT JOIN pg_class t ON t.oid = d.refobjid
    LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE app_is_platform() AND ps.schemaname NOT LIKE 'pg\_temp\_%'
  )
  SELECT s.schemaname::text, s.sequencename::text, s.table_name::text, s.column_name::text, s.column_type,
         s.last_value, s.max_value, s.last_value / s.max_value::double precision
  FROM s
  ORDER BY s.last_value / s.max_value::double precision DESC, s.sequencename
$$;


-- Replication: on a primary, one row per standby (pg_stat_replication) with
-- its write/flush/replay lag in seconds and replay lag in bytes of WAL; on a
-- standby, one row 'this server (standby)' with replay_lag_s = now - the
-- last replayed transaction's commit time. No rows without replicas.
CREATE FUNCTION monitoring_replication()
RETURNS TABLE (
  role text, application_name text, client_addr text, state text, write_lag_s double precision,
  flush_lag_s double precision, replay_lag_s double precision, replay_lag_bytes numeric
)
LANGUAGE sql STABLE AS $$
  SELECT 'primary', r.application_name, host(r.client_addr), r.state,
         extract(epoch FROM r.write_lag)::double precision, extract(epoch FROM r.flush_lag)::double precision,
         extract(epoch FROM r.replay_lag)::double precision, pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)
  FROM pg_stat_replication r
  WHERE app_is_platform() AND NOT pg_is_in_recovery()
  UNION ALL
  SELECT 'standby', 'this server (standby)', NULL, 'streaming', NULL, NULL,
         extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::double precision,
         pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
  WHERE app_is_platform() AND pg_is_in_recovery()
$$;


-- When the statistics behind the checks started counting: stats_reset of
-- this database (pg_stat_database; NULL if never reset), the server start,
-- and pg_stat_statements' own reset time and deallocation count (entries
-- evicted because pg_stat_statements.max was reached) when it is available.
CREATE FUNCTION monitoring_stats_info() RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  result jsonb;
  pgss jsonb := NULL;
BEGIN
  IF NOT app_is_platform() THEN
    RETURN NULL;
  END IF;
  SELECT jsonb_build_object(
           'database_stats_reset', d.stats_reset,
           'server_started_at', pg_postmaster_start_time(),
           'pg_stat_statements_max', NULLIF(current_setting('pg_stat_statements.max', true), '')::integer)
    INTO result
    FROM pg_stat_database d WHERE d.datname = current_database();
  IF pg_stat_statements_available() AND to_regclass(format('%I.pg_stat_statements_info', pg_stat_statements_schema())) IS NOT NULL THEN
    EXECUTE format('SELECT jsonb_build_object(''stats_reset'', i.stats_reset, ''dealloc'', i.dealloc)'
                   ' FROM %I.pg_stat_statements_info i', pg_stat_statements_schema()) INTO pgss;
  END IF;
  RETURN result || jsonb_build_object('pg_stat_statements', pgss);
END $$;


-- capture_db_snapshot(at) -> the new db_snapshots id (NULL when a snapshot
-- at that instant exists already). Platform contexts only
-- (insufficient_privilege otherwise). In one statement set it:
--   1. computes each pg_stat_statements entry's delta against
--      db_statement_counters (the last cumulative values seen; a counter
--      lower than its baseline counts from zero; an entry seen for the first
--      time counts from zero, except on the very first snapshot, which only
--      records baselines) and writes the non-empty deltas;
--   2. moves the baselines to the current values (pg_stat_statements is
--      never reset);
--   3. records connections, database counters and per-table statistics.
CREATE FUNCTION capture_db_snapshot(at timestamptz) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  snap_id bigint;
  first_snapshot boolean;
  ext_schema name;
  time_expr text;
  tracked integer := 0;
  delta_calls bigint := 0;
  delta_ms double precision := 0;
BEGIN
  IF NOT app_is_platform() THEN
    RAISE EXCEPTION 'capture_db_snapshot: a staff or service context is required'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF at IS NULL THEN
    RAISE EXCEPTION 'at: must not be null' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  first_snapshot := NOT EXISTS (SELECT 1 FROM db_snapshots);
  INSERT INTO db_snapshots (
    taken_at, connections_used, connections_active, connections_idle_in_transaction, connections_waiting,
    connections_usable, xact_commit, xact_rollback, blks_hit, blks_read, dead_tuples, live_tuples,
    database_bytes, statements_tracked, statement_calls, statement_total_ms)
  SELECT at, a.used, a.active, a.idle_tx, a.waiting,
         current_setting('max_connections')::integer - current_setting('superuser_reserved_connections')::integer
           - coalesce(NULLIF(current_setting('reserved_connections', true), '')::integer, 0),
         d.xact_commit, d.xact_rollback, d.blks_hit, d.blks_read,
         coalesce(t.dead, 0), coalesce(t.live, 0), pg_database_size(current_database()), 0, 0, 0
  FROM (SELECT count(*)::integer AS used,
               (count(*) FILTER (WHERE state = 'active'))::integer AS active,
               (count(*) FILTER (WHERE state LIKE 'idle in transaction%'))::integer AS idle_tx,
               (count(*) FILTER (WHERE wait_event_type = 'Lock'))::integer AS waiting
        FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend') a,
       (SELECT * FROM pg_stat_database WHERE datname = current_database()) d,
       (SELECT sum(n_dead_tup)::bigint AS dead, sum(n_live_tup)::bigint AS live FROM pg_stat_user_tables) t
  ON CONFLICT (taken_at) DO NOTHING
  RETURNING id INTO snap_id;
  IF snap_id IS NULL THEN
    RETURN NULL;
  END IF;

  INSERT INTO db_table_snapshots (snapshot_id, schema_name, table_name, n_live_tup, n_dead_tup, seq_scan, idx_scan,
                                  total_bytes)
  SELECT snap_id, s.schemaname, s.relname, s.n_live_tup, s.n_dead_tup, s.seq_scan, s.idx_scan,
         pg_total_relation_size(s.relid)
  FROM pg_stat_user_tables s WHERE s.schemaname NOT LIKE 'pg\_temp\_%';

  IF pg_stat_statements_available() THEN
    ext_schema := pg_stat_statements_schema();
    IF EXISTS (SELECT 1 FROM pg_attribute a
               WHERE a.attrelid = format('%I.pg_stat_statements', ext_schema)::regclass
                 AND a.attname = 'total_plan_time' AND NOT a.attisdropped) THEN
      time_expr := '(s.total_plan_time + s.total_exec_time)';
    ELSE
      time_expr := 's.total_time';
    END IF;
    -- One statement: every CTE sees the same snapshot, so the deltas are
    -- taken against the baselines as they were before this upsert.
    EXECUTE format($q$
      WITH n AS (
        SELECT s.userid::bigint AS userid, s.queryid, left(redact_query_text(min(s.query)), 2000) AS query,
               sum(s.calls)::bigint AS calls, sum(%1$s) AS total_ms, sum(s.rows)::bigint AS rows,
               sum(s.shared_blks_hit)::bigint AS hit, sum(s.shared_blks_read)::bigint AS read
        FROM %2$I.pg_stat_statements s
        WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND s.queryid IS NOT NULL
        GROUP BY s.userid, s.queryid
      ), d AS (
        SELECT n.userid, n.queryid,
               (c.id IS NULL OR n.calls < c.calls) AS restart,
               n.calls, n.total_ms, n.rows, n.hit, n.read,
               c.calls AS c_calls, c.total_ms AS c_total_ms, c.rows AS c_rows, c.shared_blks_hit AS c_hit,
               c.shared_blks_read AS c_read
        FROM n LEFT JOIN db_statement_counters c ON c.userid = n.userid AND c.queryid = n.queryid
      ), deltas AS (
        INSERT INTO db_statement_deltas (snapshot_id, userid, queryid, calls, total_ms, rows, shared_blks_hit,
                                         shared_blks_read)
        SELECT $1, d.userid, d.queryid,
               CASE WHEN d.restart THEN d.calls ELSE d.calls - d.c_calls END,
               CASE WHEN d.restart THEN d.total_ms ELSE greatest(d.total_ms - d.c_total_ms, 0) END,
               CASE WHEN d.restart THEN d.rows ELSE greatest(d.rows - d.c_rows, 0) END,
               CASE WHEN d.restart THEN d.hit ELSE greatest(d.hit - d.c_hit, 0) END,
               CASE WHEN d.restart THEN d.read ELSE greatest(d.read - d.c_read, 0) END
        FROM d
        WHERE NOT $2 AND CASE WHEN d.restart THEN d.calls ELSE d.calls - d.c_calls END > 0
        RETURNING calls, total_ms
      ), baselines AS (
        INSERT INTO db_statement_counters (userid, queryid, query, calls, total_ms, rows, shared_blks_hit,
                                           shared_blks_read, last_seen_at)
        SELECT n.userid, n.queryid, coalesce(n.query, ''), n.calls, n.total_ms, n.rows, n.hit, n.read, $3
        FROM n
        ON CONFLICT (userid, queryid) DO UPDATE
          SET query = EXCLUDED.query, calls = EXCLUDED.calls, total_ms = EXCLUDED.total_ms, rows = EXCLUDED.rows,
              shared_blks_hit = EXCLUDED.shared_blks_hit, shared_blks_read = EXCLUDED.shared_blks_read,
              last_seen_at = EXCLUDED.last_seen_at
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM baselines)::integer,
             coalesce((SELECT sum(calls) FROM deltas), 0)::bigint,
             coalesce((SELECT sum(total_ms) FROM deltas), 0)::double precision
    $q$, time_expr, ext_schema) INTO tracked, delta_calls, delta_ms USING snap_id, first_snapshot, at;

    UPDATE db_snapshots
       SET statements_tracked = tracked, statement_calls = delta_calls, statement_total_ms = delta_ms
     WHERE id = snap_id;
  END IF;
  RETURN snap_id;
END $$;


-- cleanup_db_snapshots(older_than) -> rows deleted: snapshots taken before
-- `older_than` with their statement deltas and table rows, and statement
-- baselines not seen since `older_than`. Platform contexts only (0 otherwise,
-- through RLS).
CREATE FUNCTION cleanup_db_snapshots(older_than timestamptz) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  n integer;
  total integer := 0;
BEGIN
  DELETE FROM db_statement_deltas d USING db_snapshots s WHERE d.snapshot_id = s.id AND s.taken_at < older_than;
  GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  DELETE FROM db_table_snapshots d USING db_snapshots s WHERE d.snapshot_id = s.id AND s.taken_at < older_than;
  GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  DELETE FROM db_snapshots s WHERE s.taken_at < older_than;
  GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  DELETE FROM db_statement_counters c WHERE c.last_seen_at < older_than;
  GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  RETURN total;
END $$;


-- A cheaper availability probe than 0003's (which materialises the whole
-- pg_stat_statements set): pg_stat_statements_info (extension 1.9+, one
-- row) raises the same "must be loaded via shared_preload_libraries" error
-- when the library is not loaded. Older extension versions keep the old probe.
CREATE OR REPLACE FUNCTION pg_stat_statements_available() RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
  ext_schema name := pg_stat_statements_schema();
BEGIN
  IF ext_schema IS NULL THEN
    RETURN false;
  END IF;
  IF to_regclass(format('%I.pg_stat_statements_info', ext_schema)) IS NOT NULL THEN
    EXECUTE format('SELECT 1 FROM %I.pg_stat_statements_info', ext_schema);
  ELSE
    EXECUTE format('SELECT 1 FROM %I.pg_stat_statements(false) LIMIT 1', ext_schema);
  END IF;
  RETURN true;
EXCEPTION
  WHEN object_not_in_prerequisite_state OR undefined_function OR insufficient_privilege THEN
    RETURN false;
END $$;
