-- alert_configurations.alert_type becomes WS-259's alert_type_enum (issue 18 §1). The values are
-- the same five ('threshold', 'anomaly', 'composite', 'heartbeat', 'pattern_match'); the rule
-- evaluation functions compare the column with literals, which PostgreSQL reads as the enum.
-- apm_alerts (SELECT * of the table) depends on the column and is recreated around the change.
DROP VIEW apm_alerts;
ALTER TABLE alert_configurations ALTER COLUMN alert_type DROP DEFAULT;
ALTER TABLE alert_configurations ALTER COLUMN alert_type TYPE alert_type_enum USING alert_type::alert_type_enum;
CREATE VIEW apm_alerts WITH (security_invoker = true) AS SELECT * FROM alert_configurations;
