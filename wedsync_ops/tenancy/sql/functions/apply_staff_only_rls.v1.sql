-- Staff-only tables (monitoring_events, database snapshots): staff and service alone.
CREATE FUNCTION apply_staff_only_rls(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format('CREATE POLICY staff_rows ON %s USING (app_is_platform()) WITH CHECK (app_is_platform())', tbl);
END $$;
