SELECT apply_tenant_rls('alert_integrations');
