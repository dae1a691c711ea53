SELECT apply_tenant_rls('oncall_notification_rules');
