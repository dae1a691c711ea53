SELECT apply_tenant_rls('runbooks');
