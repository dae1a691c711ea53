-- A cheaper availability probe than v1's (which materialises the whole
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
