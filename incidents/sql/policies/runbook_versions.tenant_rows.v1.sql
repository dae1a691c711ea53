SELECT apply_tenant_rls('runbook_versions');
