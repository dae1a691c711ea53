-- apm_incidents: the seeds' name for incidents (docs/design/sql-contract.md), every column of incidents.
-- SELECT * is expanded when a view is made, so each column incidents gains needs a new version of
-- this view (v2 was made before incidents' lifecycle columns). security_invoker: the caller's RLS
-- applies, not the view owner's.
CREATE OR REPLACE VIEW apm_incidents WITH (security_invoker = true) AS SELECT * FROM incidents;
