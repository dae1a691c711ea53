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
