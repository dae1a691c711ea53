-- Provider configurations are tenant data (staff configure them; vendors may read their own).
SELECT apply_tenant_rls('apm_configurations');
