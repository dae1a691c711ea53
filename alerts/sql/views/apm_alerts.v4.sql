-- apm_alerts shows the new column of alert_configurations (min_samples) as well.
CREATE OR REPLACE VIEW apm_alerts WITH (security_invoker = true) AS SELECT * FROM alert_configurations;
