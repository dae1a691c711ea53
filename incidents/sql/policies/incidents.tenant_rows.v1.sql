-- Row-level security of the incidents tables, and the apm_incidents view.
SELECT apply_tenant_rls('incidents');
