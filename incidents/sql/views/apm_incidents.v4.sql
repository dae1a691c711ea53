-- apm_incidents: the seeds' name for incidents (docs/design/sql-contract.md), every column of incidents.
-- SELECT * is expanded when a view is made: v4 shows the WS-259 columns is_saturday_incident, auto_created
-- and incident_severity (issue 18, tables/incidents.v1.sql); they come last, so CREATE OR REPLACE
-- may add them. security_invoker: the caller's RLS applies, not the view owner's.
CREATE OR REPLACE VIEW apm_incidents WITH (security_invoker = true) AS SELECT * FROM incidents;
