SELECT apply_tenant_rls('oncall_acknowledge_tokens');
