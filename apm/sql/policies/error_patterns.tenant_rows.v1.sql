-- Error reports, patterns and suppression rules are tenant data.
SELECT apply_tenant_rls('error_patterns');
