ALTER TABLE apm_configurations ADD CONSTRAINT apm_configurations_poll_interval_check
  CHECK (poll_interval_seconds BETWEEN 15 AND 86400);
ALTER TABLE apm_configurations ADD CONSTRAINT apm_configurations_timeout_check
  CHECK (timeout_seconds > 0 AND timeout_seconds <= 120);
