-- Staff-only tables (monitoring_events, database snapshots): staff and service alone.
-- v2: app_is_platform() in a scalar subquery, run once per statement (see apply_tenant_rls.v2.sql).
CREATE OR REPLACE FUNCTION apply_staff_only_rls(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format('CREATE POLICY staff_rows ON %s USING ((SELECT app_is_platform())) WITH CHECK ((SELECT app_is_platform()))', tbl);
END $$;
