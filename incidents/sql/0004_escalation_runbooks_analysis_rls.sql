-- Row-level security of the escalation, runbook and post-incident analysis tables.
-- Rows with organization_id NULL (platform default policy, platform on-call
-- contacts, platform runbooks) are visible to staff and services only.
SELECT apply_tenant_rls('escalation_policies');
SELECT apply_tenant_rls('escalation_steps');
SELECT apply_tenant_rls('escalation_contacts');
SELECT apply_tenant_rls('runbooks');
SELECT apply_tenant_rls('runbook_versions');
SELECT apply_tenant_rls('post_incident_analysis');

-- The apm_incidents view was created with the columns incidents had then:
-- recreate it so it shows the new columns too.
DROP VIEW apm_incidents;
CREATE VIEW apm_incidents WITH (security_invoker = true) AS SELECT * FROM incidents;
