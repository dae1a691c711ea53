-- Health checks, their results and transitions are tenant data; a NULL
-- organization_id is a platform-wide check, visible to staff and services only.
SELECT apply_tenant_rls('service_health_checks');
SELECT apply_tenant_rls('service_health_results');
SELECT apply_tenant_rls('service_health_transitions');
ALTER TABLE service_health_checks ADD CONSTRAINT service_health_checks_interval_check
  CHECK (interval_seconds BETWEEN 10 AND 86400 AND timeout_seconds > 0 AND timeout_seconds <= 60
         AND failure_threshold >= 1 AND expected_status BETWEEN 100 AND 599);
