-- Migration helpers (run by the owner role). A tenant table gets RLS enabled
-- and forced, and one policy: platform contexts see all rows, a vendor
-- context sees its organization's rows; rows with a NULL organization_id are
-- platform-wide and visible to staff and services only.
CREATE FUNCTION apply_tenant_rls(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format(
    'CREATE POLICY tenant_rows ON %s USING (app_is_platform() OR organization_id = app_vendor_org_id())'
    ' WITH CHECK (app_is_platform() OR organization_id = app_vendor_org_id())', tbl);
END $$;
