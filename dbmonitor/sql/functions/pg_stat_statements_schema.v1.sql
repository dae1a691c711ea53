-- The schema the pg_stat_statements extension lives in, in this database (NULL when not installed).
CREATE FUNCTION pg_stat_statements_schema() RETURNS name
LANGUAGE sql STABLE AS $$
  SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'pg_stat_statements'
$$;
