ALTER TABLE error_patterns ADD CONSTRAINT error_patterns_status_check
  CHECK (status IN ('unresolved', 'resolved', 'ignored'));
ALTER TABLE error_patterns ADD CONSTRAINT error_patterns_level_check
  CHECK (level IN ('info', 'warning', 'error', 'critical'));
