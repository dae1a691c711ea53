SELECT apply_tenant_rls('oncall_overrides');
