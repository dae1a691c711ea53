SELECT apply_tenant_rls('apm_metrics');
