SELECT apply_tenant_rls('escalation_steps');
