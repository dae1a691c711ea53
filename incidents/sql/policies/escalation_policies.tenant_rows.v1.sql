-- Row-level security of the escalation, runbook and post-incident analysis tables.
-- Rows with organization_id NULL (platform default policy, platform on-call
-- contacts, platform runbooks) are visible to staff and services only.
SELECT apply_tenant_rls('escalation_policies');
