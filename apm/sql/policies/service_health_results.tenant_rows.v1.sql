SELECT apply_tenant_rls('service_health_results');
