-- Row-level security of the alerts tables, and the apm_alerts view.
SELECT apply_tenant_rls('alert_configurations');
SELECT apply_tenant_rls('alert_history');
SELECT apply_tenant_rls('notification_channels');
SELECT apply_tenant_rls('notification_deliveries');
SELECT apply_tenant_rls('notification_delivery_attempts');
SELECT apply_tenant_rls('alert_integrations');
-- Authentication: the caller presenting a token's hash may read that one integration.
CREATE POLICY token_lookup ON alert_integrations FOR SELECT USING (token_hash = app_token_hash());

-- apm_alerts: the seeds' name for alert rules (DESIGN.md). security_invoker
-- so the caller's RLS applies, not the view owner's.
CREATE VIEW apm_alerts WITH (security_invoker = true) AS SELECT * FROM alert_configurations;
