-- error_reports and error_patterns in WS-259's terms (issue 18 §1). See
-- functions/error_reports_spec_columns.v1.sql for what each spec column means.
ALTER TABLE error_reports
  ADD COLUMN error_message text,
  ADD COLUMN severity error_severity_type,
  ADD COLUMN created_at timestamptz,
  ADD COLUMN is_wedding_day boolean,
  -- The id other systems pass to create_incident_from_critical_error(uuid).
  ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE error_patterns ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX error_patterns_public_id ON error_patterns (public_id);

CREATE TRIGGER error_reports_spec_columns BEFORE INSERT OR UPDATE OF message, level, received_at, wedding_context
  ON error_reports FOR EACH ROW EXECUTE FUNCTION error_reports_spec_columns();

-- Existing rows (service context: the table forces row-level security on its owner too).
SELECT set_config('app.role', 'service', true);
UPDATE error_reports SET message = message;
-- NOT NULL like the portal's own columns: the spec's INSERTs, which name no pattern, message, level,
-- service or time, still pass, since PostgreSQL checks NOT NULL after BEFORE triggers have filled them.
ALTER TABLE error_reports ALTER COLUMN error_message SET NOT NULL, ALTER COLUMN severity SET NOT NULL,
  ALTER COLUMN created_at SET NOT NULL, ALTER COLUMN is_wedding_day SET NOT NULL;

CREATE INDEX idx_error_reports_wedding_day ON error_reports (is_wedding_day, created_at DESC) WHERE is_wedding_day;
CREATE INDEX idx_error_reports_organization_created ON error_reports (organization_id, created_at DESC);
-- Only critical reports open incidents: create_incident_from_critical_error finds them by public_id.
CREATE INDEX error_reports_critical_public_id ON error_reports (public_id) WHERE level = 'critical';
