ALTER TABLE service_health_checks ADD CONSTRAINT service_health_checks_interval_check
  CHECK (interval_seconds BETWEEN 10 AND 86400 AND timeout_seconds > 0 AND timeout_seconds <= 60
         AND failure_threshold >= 1 AND expected_status BETWEEN 100 AND 599);
