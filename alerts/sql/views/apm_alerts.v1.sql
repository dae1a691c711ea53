-- apm_alerts: the seeds' name for alert rules (docs/design/sql-contract.md). security_invoker
-- so the caller's RLS applies, not the view owner's.
CREATE VIEW apm_alerts WITH (security_invoker = true) AS SELECT * FROM alert_configurations;
