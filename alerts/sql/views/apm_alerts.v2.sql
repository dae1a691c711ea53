-- apm_alerts shows the new columns of alert_configurations as well.
CREATE OR REPLACE VIEW apm_alerts WITH (security_invoker = true) AS SELECT * FROM alert_configurations;
