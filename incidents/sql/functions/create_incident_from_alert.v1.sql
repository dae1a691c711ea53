-- create_incident_from_alert(alert_id uuid [, at timestamptz]) RETURNS uuid
--
-- Opens the incident of an alert (docs/design/tenancy-and-rls.md, "Wedding-day rules") and links
-- alert_history.incident_id to it; returns the incident id.
--
-- * Idempotent: an alert already linked to an incident returns that
--   incident's id and writes nothing. The alert row is locked (FOR UPDATE),
--   so two concurrent calls for one alert open one incident.
-- * Wedding-day protocol of the alert's organization on at `at`
--   (wedding_day_protocol(org, at): its local date has a non-cancelled
--   wedding, or is a Saturday): priority p0, title 'WEDDING DAY: <alert
--   title>', wedding_impact wedding_day_critical, wedding_id = that local
--   day's non-cancelled wedding with the earliest ceremony_time (NULL on a
--   Saturday without a wedding).
-- * Otherwise: priority p1 for critical/emergency alerts, p2 for the rest;
--   wedding_impact none.
-- * severity is copied from the alert, detected_at = alert.starts_at; an
--   alert without organization (unassigned) opens a platform-wide incident
--   (organization_id NULL, staff only).
-- * Writes the timeline's first incident_updates row (kind 'created',
--   vendor_visible) naming the alert.
-- * Runs as the invoker: row-level security applies (a service or staff
--   context sees every alert; a vendor context only its organization's).
--   An alert the caller cannot see raises no_data_found (SQLSTATE P0002).
--
-- The one-argument form is the SQL contract and decides at now() (the
-- transaction's start); the two-argument form lets tests and back-fills
-- decide at a given instant.
CREATE FUNCTION create_incident_from_alert(alert_id uuid, at timestamptz) RETURNS uuid
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  a alert_history%ROWTYPE;
  protocol_on boolean;
  local_day date;
  v_wedding uuid;
  v_incident uuid;
  v_priority text;
  v_title text;
  v_impact wedding_impact_level;
BEGIN
  IF alert_id IS NULL OR at IS NULL THEN
    RAISE EXCEPTION 'create_incident_from_alert: alert_id and at are required' USING ERRCODE = 'null_value_not_allowed';
  END IF;

  SELECT * INTO a FROM alert_history h WHERE h.id = create_incident_from_alert.alert_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'create_incident_from_alert: alert % not found', alert_id USING ERRCODE = 'no_data_found';
  END IF;
  IF a.incident_id IS NOT NULL THEN
    RETURN a.incident_id;
  END IF;

  protocol_on := false;
  IF a.organization_id IS NOT NULL THEN
    SELECT coalesce(p.active, false) INTO protocol_on FROM wedding_day_protocol(a.organization_id, at) p;
  END IF;

  IF protocol_on THEN
    local_day := org_local_date(a.organization_id, at);
    SELECT w.id INTO v_wedding
      FROM weddings w
     WHERE w.organization_id = a.organization_id AND w.wedding_date = local_day AND w.status <> 'cancelled'
     ORDER BY w.ceremony_time NULLS LAST, w.created_at, w.id
     LIMIT 1;
    v_priority := 'p0';
    v_title := left('WEDDING DAY: ' || a.title, 500);
    v_impact := 'wedding_day_critical';
  ELSE
    v_wedding := NULL;
    v_priority := CASE WHEN a.severity IN ('critical', 'emergency') THEN 'p1' ELSE 'p2' END;
    v_title := a.title;
    v_impact := 'none';
  END IF;

  INSERT INTO incidents (organization_id, title, description, status, priority, severity, wedding_impact,
                         wedding_id, escalation_level, detected_at, created_at, updated_at)
  VALUES (a.organization_id, v_title, a.description, 'open', v_priority, a.severity, v_impact,
          v_wedding, 'none', a.starts_at, at, at)
  RETURNING id INTO v_incident;

  INSERT INTO incident_updates (organization_id, incident_id, kind, message, vendor_visible, created_at)
  VALUES (a.organization_id, v_incident, 'created',
          format('Incident opened from %s alert "%s" (%s, %s)', a.source, a.title, a.severity, a.id),
          true, at);

  UPDATE alert_history h SET incident_id = v_incident WHERE h.id = a.id;
  RETURN v_incident;
END
$$;

CREATE FUNCTION create_incident_from_alert(alert_id uuid) RETURNS uuid
LANGUAGE sql VOLATILE AS $$
  SELECT create_incident_from_alert(alert_id, now())
$$;
