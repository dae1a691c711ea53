SELECT apply_tenant_rls('api_keys');
