SELECT apply_tenant_rls('notification_deliveries');
