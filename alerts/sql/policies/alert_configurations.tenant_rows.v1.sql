-- Row-level security of the alerts tables, and the apm_alerts view.
SELECT apply_tenant_rls('alert_configurations');
