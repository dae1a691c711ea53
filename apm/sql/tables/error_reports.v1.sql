ALTER TABLE error_reports ADD COLUMN wedding_context jsonb;
CREATE INDEX idx_error_reports_org_wedding_day ON error_reports (organization_id, occurred_at)
  WHERE (wedding_context->>'is_wedding_day')::boolean;
