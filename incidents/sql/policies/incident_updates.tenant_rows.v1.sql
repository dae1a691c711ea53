SELECT apply_tenant_rls('incident_updates');
