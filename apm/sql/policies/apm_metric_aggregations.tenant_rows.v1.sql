SELECT apply_tenant_rls('apm_metric_aggregations');
