-- record_monitoring_event(event_type, severity, message, details): insert an
-- unresolved monitoring_events row and return its id. Staff or service
-- context only (insufficient_privilege otherwise). Errors
-- (invalid_parameter_value) name the argument: event_type empty or longer
-- than 50 characters, severity NULL, message empty, details not a JSON object.
CREATE FUNCTION record_monitoring_event(
  event_type text, severity alert_severity, message text, details jsonb DEFAULT '{}'
) RETURNS uuid
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  new_id uuid;
BEGIN
  IF NOT app_is_platform() THEN
    RAISE EXCEPTION 'record_monitoring_event: a staff or service context is required'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF coalesce(btrim(record_monitoring_event.event_type), '') = '' THEN
    RAISE EXCEPTION 'event_type: must not be empty' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF length(record_monitoring_event.event_type) > 50 THEN
    RAISE EXCEPTION 'event_type: at most 50 characters' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF record_monitoring_event.severity IS NULL THEN
    RAISE EXCEPTION 'severity: must not be null' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF coalesce(btrim(record_monitoring_event.message), '') = '' THEN
    RAISE EXCEPTION 'message: must not be empty' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF jsonb_typeof(coalesce(record_monitoring_event.details, '{}'::jsonb)) <> 'object' THEN
    RAISE EXCEPTION 'details: must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO monitoring_events (id, event_type, severity, message, details, resolved, created_at)
  VALUES (gen_random_uuid(), record_monitoring_event.event_type, record_monitoring_event.severity,
          record_monitoring_event.message, coalesce(record_monitoring_event.details, '{}'::jsonb), false, now())
  RETURNING id INTO new_id;
  RETURN new_id;
END $$;
