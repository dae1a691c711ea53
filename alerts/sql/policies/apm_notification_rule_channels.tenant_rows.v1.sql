SELECT apply_tenant_rls('apm_notification_rule_channels');
