SELECT apply_tenant_rls('post_incident_analysis');
