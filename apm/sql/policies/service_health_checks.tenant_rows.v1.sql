-- Health checks, their results and transitions are tenant data; a NULL
-- organization_id is a platform-wide check, visible to staff and services only.
SELECT apply_tenant_rls('service_health_checks');
