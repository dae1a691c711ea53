SELECT apply_tenant_rls('notification_delivery_attempts');
