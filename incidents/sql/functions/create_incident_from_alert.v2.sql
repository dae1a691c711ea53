-- create_incident_from_alert(alert_id uuid, at timestamptz): the SQL contract, now
-- create_incidents_from_alerts with one alert. Same contract as v1: returns the incident (the one
-- the alert already had, or a new one); an alert the caller cannot see raises no_data_found.
CREATE OR REPLACE FUNCTION create_incident_from_alert(alert_id uuid, at timestamptz) RETURNS uuid
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_incident uuid;
BEGIN
  IF alert_id IS NULL OR at IS NULL THEN
    RAISE EXCEPTION 'create_incident_from_alert: alert_id and at are required' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  SELECT c.incident_id INTO v_incident FROM create_incidents_from_alerts(ARRAY[alert_id], at) c;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'create_incident_from_alert: alert % not found', alert_id USING ERRCODE = 'no_data_found';
  END IF;
  RETURN v_incident;
END
$$;
