ALTER TABLE error_reports ADD CONSTRAINT error_reports_level_check
  CHECK (level IN ('info', 'warning', 'error', 'critical'));
