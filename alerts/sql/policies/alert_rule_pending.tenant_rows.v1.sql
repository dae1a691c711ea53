SELECT apply_tenant_rls('alert_rule_pending');
