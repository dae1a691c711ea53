-- Audit trail (issue 14 §6): organizations' events. The organization's own id is its tenant (as on
-- organizations itself); only platform contexts change organizations, so only they write events.
ALTER TABLE audit_organization_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_organization_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON audit_organization_events
  USING (app_is_platform() OR pgh_obj_id = app_vendor_org_id())
  WITH CHECK (app_is_platform());
