-- Database health over the live statistics of PostgreSQL (docs/design/sql-contract.md).
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
