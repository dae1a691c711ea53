-- incidents in WS-259's terms (issue 18 §1).
--   is_saturday_incident  the organization's local date at detected_at is a Saturday (set by the
--                         trigger incidents_saturday on insert and when detected_at or the
--                         organization changes; platform-wide incidents: false)
--   auto_created          opened by the portal (an alert, an error pattern), not by a person
--   incident_severity     incident_severity_type from priority and wedding impact: wedding_day_critical
--                         → wedding_day_emergency, else p0 → critical, p1 → high, p2 → medium, p3 → low
ALTER TABLE incidents
  ADD COLUMN is_saturday_incident boolean NOT NULL DEFAULT false,
  ADD COLUMN auto_created boolean GENERATED ALWAYS AS (source <> 'manual') STORED,
  ADD COLUMN incident_severity incident_severity_type GENERATED ALWAYS AS (
    CASE WHEN wedding_impact = 'wedding_day_critical' THEN 'wedding_day_emergency'::incident_severity_type
         WHEN priority = 'p0' THEN 'critical'::incident_severity_type
         WHEN priority = 'p1' THEN 'high'::incident_severity_type
         WHEN priority = 'p2' THEN 'medium'::incident_severity_type
         ELSE 'low'::incident_severity_type END) STORED;

-- The trigger's function: functions/incidents_saturday.v1.sql (installed before this file).
CREATE TRIGGER incidents_saturday BEFORE INSERT OR UPDATE OF detected_at, organization_id ON incidents
  FOR EACH ROW EXECUTE FUNCTION incidents_saturday();

CREATE INDEX idx_incidents_saturday ON incidents (is_saturday_incident, detected_at DESC) WHERE is_saturday_incident;

-- Existing incidents get their flag from the trigger. Deferred foreign-key checks fire now, not at commit:
-- later DDL in this transaction is refused while trigger events are pending ("pending trigger events").
SELECT set_config('app.role', 'service', true);
SET CONSTRAINTS ALL IMMEDIATE;
UPDATE incidents SET detected_at = detected_at;

-- apm_incidents (SELECT * of incidents) shows the new columns: views/apm_incidents.v4.sql.
