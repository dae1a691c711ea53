CREATE VIEW apm_incidents WITH (security_invoker = true) AS SELECT * FROM incidents;
