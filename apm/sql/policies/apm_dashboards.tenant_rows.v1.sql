-- Dashboards are tenant data.
SELECT apply_tenant_rls('apm_dashboards');
