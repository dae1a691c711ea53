-- Routing rules and their channels: an organization's rows are its own,
-- NULL organization rows are platform-wide (staff and services only).
SELECT apply_tenant_rls('apm_notification_rules');
