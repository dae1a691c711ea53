-- Row-level security of the audit trail's event tables (issue 14 §6): the same rule as their
-- sources. A vendor context reads its own organization's events; staff and services read all;
-- rows of platform-wide objects (organization_id NULL) are staff and service only. The triggers
-- insert as the writing role, so a write the source's policy lets through is let through here too.
SELECT apply_tenant_rls('audit_alert_rule_events');
SELECT apply_tenant_rls('audit_suppression_rule_events');
SELECT apply_tenant_rls('audit_notification_channel_events');
SELECT apply_tenant_rls('audit_escalation_policy_events');
SELECT apply_tenant_rls('audit_oncall_schedule_events');
SELECT apply_tenant_rls('audit_runbook_events');
SELECT apply_tenant_rls('audit_incident_events');

-- Organizations' events: the organization's own id is its tenant (as on organizations itself);
-- only platform contexts change organizations, so only they write events.
ALTER TABLE audit_organization_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_organization_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON audit_organization_events
  USING (app_is_platform() OR pgh_obj_id = app_vendor_org_id())
  WITH CHECK (app_is_platform());

-- pghistory's own context table is unused (the context is stored in each event row:
-- PGHISTORY_CONTEXT_FIELD = ContextJSONField), so nobody but platform contexts may touch it.
SELECT apply_staff_only_rls('pghistory_context');
