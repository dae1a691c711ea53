SELECT apply_tenant_rls('error_suppression_rules');
