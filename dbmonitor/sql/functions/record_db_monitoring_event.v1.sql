CREATE FUNCTION record_db_monitoring_event(
  event_type text, severity alert_severity, message text, details jsonb DEFAULT '{}'
) RETURNS uuid
LANGUAGE sql VOLATILE AS $$ SELECT record_monitoring_event($1, $2, $3, $4) $$;
