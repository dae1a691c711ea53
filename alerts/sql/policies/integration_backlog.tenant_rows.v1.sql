-- integration_backlog holds tenant data (parked alert payloads): an organization integration's rows are the
-- organization's; a platform-wide integration's (organization_id NULL) are staff and services only.
SELECT apply_tenant_rls('integration_backlog');
