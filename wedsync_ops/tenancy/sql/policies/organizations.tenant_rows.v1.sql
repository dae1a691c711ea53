-- Row-level security of the tenancy tables.
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON organizations
  USING (app_is_platform() OR id = app_vendor_org_id())
  WITH CHECK (app_is_platform());
