-- The apm_alerts view again, so that it shows the new column (SELECT * is
-- expanded when a view is created; the new column comes last).
CREATE OR REPLACE VIEW apm_alerts WITH (security_invoker = true) AS SELECT * FROM alert_configurations;
