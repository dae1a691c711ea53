-- Database health over the live statistics of PostgreSQL (DESIGN.md, "SQL contract").
--
-- Every view and function here answers to platform contexts alone (app.role
-- staff or service): a vendor context, or the application role without a
-- context, gets zero rows, an error (writes) or a summary of zeros with
-- status 'unknown'. The views are security_invoker, so the caller's own
-- privileges apply; the application role holds pg_read_all_stats, which lets
-- it read every backend's pg_stat_activity row and pg_stat_statements text.
--
-- Objects:
--   redact_query_text(text) -> text
--   pg_stat_statements_available() -> boolean
--   monitoring_slow_query_rows(min_mean_ms, min_calls) and view monitoring_slow_queries
--   view monitoring_connections
--   view monitoring_table_health
--   monitoring_rls_status_in(schema) and view monitoring_rls_status
--   record_monitoring_event(…) -> uuid, alias record_db_monitoring_event(…)
--   monitoring_overall_status(…) -> text
--   get_database_monitoring_summary() -> jsonb, alias get_db_monitoring_summary()
--   cleanup_old_monitoring_data() -> integer


-- redact_query_text(q): query text safe to show on a page.
-- pg_stat_statements replaces the constants of ordinary statements with $n,
-- but keeps utility statements (ALTER ROLE … PASSWORD '…', DO blocks, SET …)
-- verbatim. Two rules, both case-insensitive:
--   1. a string literal that follows a secret-sounding word (password, passwd,
--      secret, token, api_key, access_key, private_key, credential(s)) within
--      the same clause becomes '***': PASSWORD 'x' -> PASSWORD '***',
--      app.api_token = 'x' -> app.api_token = '***';
--   2. any other literal that looks like a key — md5 or SCRAM password
--      hashes, or 20+ characters of [A-Za-z0-9+/_.=~-] mixing letters and
--      digits (API keys, JWTs) — becomes '***'.
-- Literals may contain doubled quotes (''). NULL in, NULL out.
CREATE FUNCTION redact_query_text(q text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT regexp_replace(
           regexp_replace(
             q,
             '((password|passwd|secret|token|api_?key|access_?key|private_?key|credentials?)\M[^'';]{0,40}[\s=])''(?:[^'']|'''')*''',
             '\1''***''', 'gi'),
           '''(?:md5[0-9a-f]{32}|SCRAM-SHA-256\$[^'']*|(?=[^'']*[0-9])(?=[^'']*[A-Za-z])[A-Za-z0-9+/_.=~-]{20,})''',
           '''***''', 'gi')
$$;


-- The schema the pg_stat_statements extension lives in, in this database (NULL when not installed).
CREATE FUNCTION pg_stat_statements_schema() RETURNS name
LANGUAGE sql STABLE AS $$
  SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'pg_stat_statements'
$$;


-- True when pg_stat_statements can be read here: the extension is created in
-- this database (CREATE EXTENSION pg_stat_statements) and the library is
-- loaded (shared_preload_libraries = 'pg_stat_statements', then a restart).
-- Decided at call time, so enabling the extension later needs no migration.
CREATE FUNCTION pg_stat_statements_available() RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
  ext_schema name := pg_stat_statements_schema();
BEGIN
  IF ext_schema IS NULL THEN
    RETURN false;
  END IF;
  EXECUTE format('SELECT 1 FROM %I.pg_stat_statements(false) LIMIT 1', ext_schema);
  RETURN true;
EXCEPTION
  -- "pg_stat_statements must be loaded via shared_preload_libraries"
  WHEN object_not_in_prerequisite_state OR undefined_function OR insufficient_privilege THEN
    RETURN false;
END $$;


-- monitoring_slow_query_rows(min_mean_ms, min_calls): statements of THIS
-- database whose mean time (planning + execution, ms) per call is at least
-- min_mean_ms and that ran at least min_calls times. Platform contexts only;
-- zero rows when pg_stat_statements is unavailable (see above).
-- Columns: source ('pg_stat_statements'), queryid, role_name, query (redacted),
-- calls, mean_ms, total_ms, rows, shared_blks_hit, shared_blks_read,
-- cache_hit_ratio (0..1, NULL when no block was touched).
CREATE FUNCTION monitoring_slow_query_rows(min_mean_ms double precision DEFAULT 100, min_calls bigint DEFAULT 1)
RETURNS TABLE (
  source text, queryid bigint, role_name name, query text, calls bigint, mean_ms double precision,
  total_ms double precision, rows bigint, shared_blks_hit bigint, shared_blks_read bigint,
  cache_hit_ratio double precision
)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  ext_schema name;
  time_expr text;
BEGIN
  IF NOT app_is_platform() OR NOT pg_stat_statements_available() THEN
    RETURN;
  END IF;
  ext_schema := pg_stat_statements_schema();
  -- pg_stat_statements 1.8+ splits planning and execution time; before it, total_time.
  IF EXISTS (SELECT 1 FROM pg_attribute a
             WHERE a.attrelid = format('%I.pg_stat_statements', ext_schema)::regclass
               AND a.attname = 'total_plan_time' AND NOT a.attisdropped) THEN
    time_expr := '(s.total_plan_time + s.total_exec_time)';
  ELSE
    time_expr := 's.total_time';
  END IF;
  RETURN QUERY EXECUTE format($q$
    SELECT 'pg_stat_statements'::text, s.queryid, r.rolname, redact_query_text(s.query), s.calls,
           %1$s / s.calls, %1$s, s.rows, s.shared_blks_hit, s.shared_blks_read,
           s.shared_blks_hit::double precision / NULLIF(s.shared_blks_hit + s.shared_blks_read, 0)
    FROM %2$I.pg_stat_statements s
    LEFT JOIN pg_roles r ON r.oid = s.userid
    WHERE s.dbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
      AND s.calls > 0 AND s.calls >= $2 AND %1$s / s.calls >= $1
    ORDER BY %1$s / s.calls DESC
  $q$, time_expr, ext_schema) USING min_mean_ms, min_calls;
END $$;

-- Thresholds default to 100 ms mean and 1 call; an operator may change them
-- per database or role without a migration, e.g.
--   ALTER DATABASE wedsync SET dbmonitor.slow_query_ms = '250';
--   ALTER DATABASE wedsync SET dbmonitor.slow_query_min_calls = '5';
-- or call monitoring_slow_query_rows(min_mean_ms, min_calls) directly.
CREATE VIEW monitoring_slow_queries WITH (security_invoker = true) AS
SELECT *
FROM monitoring_slow_query_rows(
  coalesce(NULLIF(current_setting('dbmonitor.slow_query_ms', true), '')::double precision, 100),
  coalesce(NULLIF(current_setting('dbmonitor.slow_query_min_calls', true), '')::bigint, 1))
WHERE app_is_platform();


-- Client connections to THIS database by state and application_name.
-- connections: backends in the group; oldest_idle_in_transaction_s: age (s)
-- of the longest 'idle in transaction' (or aborted) session of the group,
-- NULL if none; longest_active_query_s: runtime (s) of its longest running
-- statement, NULL if none active. max_connections is server-wide;
-- usable_connections = max_connections - superuser_reserved_connections
-- - reserved_connections (PostgreSQL 16+, 0 before).
CREATE VIEW monitoring_connections WITH (security_invoker = true) AS
WITH limits AS (
  SELECT current_setting('max_connections')::integer AS max_connections,
         current_setting('max_connections')::integer
           - current_setting('superuser_reserved_connections')::integer
           - coalesce(NULLIF(current_setting('reserved_connections', true), '')::integer, 0) AS usable_connections
)
SELECT coalesce(a.state, 'unknown') AS state,
       coalesce(a.application_name, '') AS application_name,
       count(*) AS connections,
       max(extract(epoch FROM clock_timestamp() - a.state_change)::double precision)
         FILTER (WHERE a.state LIKE 'idle in transaction%') AS oldest_idle_in_transaction_s,
       max(extract(epoch FROM clock_timestamp() - a.query_start)::double precision)
         FILTER (WHERE a.state = 'active') AS longest_active_query_s,
       l.max_connections,
       l.usable_connections
FROM pg_stat_activity a
CROSS JOIN limits l
WHERE app_is_platform() AND a.datname = current_database() AND a.backend_type = 'client backend'
GROUP BY 1, 2, l.max_connections, l.usable_connections;


-- Per user table of THIS database (temporary tables excluded): live and dead
-- tuples, dead_ratio = dead / (live + dead) (0..1, 0 for an empty table),
-- the last manual/auto vacuum and analyze, vacuum_lag_s = seconds since the
-- later of last_vacuum and last_autovacuum (NULL: never vacuumed),
-- table_bytes (heap) and total_bytes (with indexes and TOAST), and
-- needs_vacuum: dead tuples past the autovacuum trigger point
-- (autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor × live,
-- server settings; a lasting true means autovacuum is behind or blocked).
CREATE VIEW monitoring_table_health WITH (security_invoker = true) AS
SELECT s.schemaname::text AS schema_name,
       s.relname::text AS table_name,
       s.n_live_tup,
       s.n_dead_tup,
       CASE WHEN s.n_live_tup + s.n_dead_tup > 0
            THEN s.n_dead_tup::double precision / (s.n_live_tup + s.n_dead_tup) ELSE 0 END AS dead_ratio,
       s.last_vacuum,
       s.last_autovacuum,
       s.last_analyze,
       s.last_autoanalyze,
       extract(epoch FROM clock_timestamp() - greatest(s.last_vacuum, s.last_autovacuum))::double precision
         AS vacuum_lag_s,
       pg_relation_size(s.relid) AS table_bytes,
       pg_total_relation_size(s.relid) AS total_bytes,
       s.n_dead_tup > current_setting('autovacuum_vacuum_threshold')::bigint
                      + current_setting('autovacuum_vacuum_scale_factor')::double precision * s.n_live_tup
         AS needs_vacuum
FROM pg_stat_user_tables s
WHERE app_is_platform() AND s.schemaname NOT LIKE 'pg\_temp\_%';


-- monitoring_rls_status_in(schema): per table (ordinary or partitioned) of
-- the schema: rls_enabled, rls_forced, policy_count, has_organization_id,
-- and flagged = has an organization_id column but RLS is not both enabled
-- and forced, or it has no policy. Partitions are skipped: their parent's
-- policies cover every access the application role is granted (it has no
-- privileges on partitions). Platform contexts only.
CREATE FUNCTION monitoring_rls_status_in(in_schema name)
RETURNS TABLE (
  schema_name text, table_name text, rls_enabled boolean, rls_forced boolean, policy_count integer,
  has_organization_id boolean, flagged boolean
)
LANGUAGE sql STABLE AS $$
  SELECT t.nspname::text, t.relname::text, t.relrowsecurity, t.relforcerowsecurity, t.policies, t.has_org,
         t.has_org AND NOT (t.relrowsecurity AND t.relforcerowsecurity AND t.policies > 0)
  FROM (
    SELECT n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity,
           (SELECT count(*)::integer FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
           EXISTS (SELECT 1 FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attname = 'organization_id'
                     AND a.attnum > 0 AND NOT a.attisdropped) AS has_org
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE app_is_platform() AND n.nspname = in_schema AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  ) t
  ORDER BY t.relname
$$;

CREATE VIEW monitoring_rls_status WITH (security_invoker = true) AS
SELECT * FROM monitoring_rls_status_in('public') WHERE app_is_platform();


-- record_monitoring_event(event_type, severity, message, details): insert an
-- unresolved monitoring_events row and return its id. Staff or service
-- context only (insufficient_privilege otherwise). Errors
-- (invalid_parameter_value) name the argument: event_type empty or longer
-- than 50 characters, severity NULL, message empty, details not a JSON object.
CREATE FUNCTION record_monitoring_event(
  event_type text, severity alert_severity, message text, details jsonb DEFAULT '{}'
) RETURNS uuid
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  new_id uuid;
BEGIN
  IF NOT app_is_platform() THEN
    RAISE EXCEPTION 'record_monitoring_event: a staff or service context is required'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF coalesce(btrim(record_monitoring_event.event_type), '') = '' THEN
    RAISE EXCEPTION 'event_type: must not be empty' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF length(record_monitoring_event.event_type) > 50 THEN
    RAISE EXCEPTION 'event_type: at most 50 characters' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF record_monitoring_event.severity IS NULL THEN
    RAISE EXCEPTION 'severity: must not be null' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF coalesce(btrim(record_monitoring_event.message), '') = '' THEN
    RAISE EXCEPTION 'message: must not be empty' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF jsonb_typeof(coalesce(record_monitoring_event.details, '{}'::jsonb)) <> 'object' THEN
    RAISE EXCEPTION 'details: must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO monitoring_events (id, event_type, severity, message, details, resolved, created_at)
  VALUES (gen_random_uuid(), record_monitoring_event.event_type, record_monitoring_event.severity,
          record_monitoring_event.message, coalesce(record_monitoring_event.details, '{}'::jsonb), false, now())
  RETURNING id INTO new_id;
  RETURN new_id;
END $$;

CREATE FUNCTION record_db_monitoring_event(
  event_type text, severity alert_severity, message text, details jsonb DEFAULT '{}'
) RETURNS uuid
LANGUAGE sql VOLATILE AS $$ SELECT record_monitoring_event($1, $2, $3, $4) $$;


-- The overall status of the summary, from its counts:
--   critical: connections_used > 90% of connections_max (usable connections),
--             or an unresolved event of severity critical or emergency;
--   warning:  connections_used > 75% of connections_max, or slow_queries > 0,
--             or rls_unprotected_tables > 0, or tables_needing_vacuum > 0,
--             or an unresolved event of severity warning;
--   ok:       otherwise (unresolved info events do not count).
-- (The summary itself answers 'unknown' to non-platform contexts.)
CREATE FUNCTION monitoring_overall_status(
  connections_used integer, connections_max integer, slow_queries integer, tables_needing_vacuum integer,
  rls_unprotected_tables integer, open_critical_events integer, open_warning_events integer
) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN (connections_max > 0 AND connections_used > 0.90 * connections_max) OR open_critical_events > 0
      THEN 'critical'
    WHEN (connections_max > 0 AND connections_used > 0.75 * connections_max) OR slow_queries > 0
         OR rls_unprotected_tables > 0 OR tables_needing_vacuum > 0 OR open_warning_events > 0
      THEN 'warning'
    ELSE 'ok'
  END
$$;


-- get_database_monitoring_summary() -> jsonb:
--   {"status": "ok"|"warning"|"critical"|"unknown", "checked_at": ISO 8601 timestamptz,
--    "connections": {"used": int, "max": int, "idle_in_transaction": int},
--    "slow_queries": int, "pg_stat_statements": bool,
--    "tables_needing_vacuum": int, "rls_unprotected_tables": int, "open_events": int}
-- connections.used and idle_in_transaction count client backends of the
-- whole server (max_connections is server-wide); max is usable_connections
-- (see monitoring_connections). slow_queries, tables_needing_vacuum and
-- rls_unprotected_tables count rows of the views of the same names
-- (flagged, needs_vacuum); open_events counts unresolved monitoring_events.
-- Status: monitoring_overall_status(). A non-platform context gets status
-- 'unknown', every count 0 and pg_stat_statements false.
CREATE FUNCTION get_database_monitoring_summary() RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  used integer := 0;
  idle_tx integer := 0;
  usable integer := 0;
  slow integer := 0;
  pgss boolean := false;
  needing_vacuum integer := 0;
  unprotected integer := 0;
  open_all integer := 0;
  open_critical integer := 0;
  open_warning integer := 0;
  status text := 'unknown';
BEGIN
  IF app_is_platform() THEN
    SELECT count(*)::integer, (count(*) FILTER (WHERE a.state LIKE 'idle in transaction%'))::integer
      INTO used, idle_tx
      FROM pg_stat_activity a WHERE a.backend_type = 'client backend';
    usable := current_setting('max_connections')::integer
              - current_setting('superuser_reserved_connections')::integer
              - coalesce(NULLIF(current_setting('reserved_connections', true), '')::integer, 0);
    pgss := pg_stat_statements_available();
    SELECT count(*)::integer INTO slow FROM monitoring_slow_queries;
    SELECT count(*)::integer INTO needing_vacuum FROM monitoring_table_health h WHERE h.needs_vacuum;
    SELECT count(*)::integer INTO unprotected FROM monitoring_rls_status r WHERE r.flagged;
    SELECT count(*)::integer,
           (count(*) FILTER (WHERE e.severity IN ('critical', 'emergency')))::integer,
           (count(*) FILTER (WHERE e.severity = 'warning'))::integer
      INTO open_all, open_critical, open_warning
      FROM monitoring_events e WHERE NOT e.resolved;
    status := monitoring_overall_status(used, usable, slow, needing_vacuum, unprotected, open_critical, open_warning);
  END IF;
  RETURN jsonb_build_object(
    'status', status,
    'checked_at', to_jsonb(clock_timestamp()),
    'connections', jsonb_build_object('used', used, 'max', usable, 'idle_in_transaction', idle_tx),
    'slow_queries', slow,
    'pg_stat_statements', pgss,
    'tables_needing_vacuum', needing_vacuum,
    'rls_unprotected_tables', unprotected,
    'open_events', open_all
  );
END $$;

CREATE FUNCTION get_db_monitoring_summary() RETURNS jsonb
LANGUAGE sql STABLE AS $$ SELECT get_database_monitoring_summary() $$;


-- cleanup_old_monitoring_data() -> integer: delete monitoring_events that are
-- resolved and created more than 30 days ago, or unresolved and created more
-- than 7 days ago (ages from now(), the transaction's start). Returns the
-- number of rows deleted. Under RLS only a platform context deletes anything.
CREATE FUNCTION cleanup_old_monitoring_data() RETURNS integer
LANGUAGE sql VOLATILE AS $$
  WITH deleted AS (
    DELETE FROM monitoring_events e
    WHERE (e.resolved AND e.created_at < now() - interval '30 days')
       OR (NOT e.resolved AND e.created_at < now() - interval '7 days')
    RETURNING 1
  )
  SELECT count(*)::integer FROM deleted
$$;
