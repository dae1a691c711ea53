SELECT apply_tenant_rls('error_reports');
