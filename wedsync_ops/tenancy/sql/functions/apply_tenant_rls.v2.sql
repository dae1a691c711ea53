-- Migration helpers (run by the owner role). A tenant table gets RLS enabled
-- and forced, and one policy: platform contexts see all rows, a vendor
-- context sees its organization's; rows with a NULL organization_id are
-- platform-wide and visible to staff and services only.
--
-- v2: the context functions are wrapped in scalar subqueries, so PostgreSQL
-- runs each once per statement (an InitPlan) and compares every row with a
-- parameter, instead of calling app_role()/current_setting() again for each
-- row scanned or inserted. Same rows as v1 (the settings cannot change within
-- a statement). Measured on a 1,000-row INSERT into apm_metrics: 14.5 ms with
-- v1's policy, 12.6 ms with this one (bench/ingest.py, issue 16). The form is
-- the one PostgreSQL documents for STABLE expressions evaluated once per query
-- (CREATE POLICY, "Notes"; Supabase's RLS performance guide calls it "wrap
-- functions in SELECT").
CREATE OR REPLACE FUNCTION apply_tenant_rls(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format(
    'CREATE POLICY tenant_rows ON %s USING ((SELECT app_is_platform()) OR organization_id = (SELECT app_vendor_org_id()))'
    ' WITH CHECK ((SELECT app_is_platform()) OR organization_id = (SELECT app_vendor_org_id()))', tbl);
END $$;
