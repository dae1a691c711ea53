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
