-- Row-level security of the incidents tables, and the apm_incidents view.
SELECT apply_tenant_rls('incidents');
SELECT apply_tenant_rls('incident_updates');
CREATE VIEW apm_incidents WITH (security_invoker = true) AS SELECT * FROM incidents;
