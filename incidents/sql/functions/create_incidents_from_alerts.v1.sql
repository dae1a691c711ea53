-- create_incidents_from_alerts(alert_ids uuid[], at timestamptz) RETURNS TABLE (alert_id uuid, incident_id uuid)
--
-- The set-based form of create_incident_from_alert (functions/create_incident_from_alert.v1.sql): opens one incident per alert of
-- `alert_ids` that has none, in one statement, and links each alert to it; returns every given alert
-- the caller can see with its incident (the one it already had, or the new one). Rule evaluation
-- opens thousands of incidents in one beat tick with it; create_incident_from_alert is now this
-- function with one alert (one definition of what an alert's incident is).
--
-- Per alert, as before: the wedding-day protocol of its organization at `at` (wedding_day_protocol)
-- makes a p0 titled 'WEDDING DAY: <title>', wedding_impact wedding_day_critical, linked to that local
-- day's non-cancelled wedding with the earliest ceremony; otherwise p1 for critical/emergency alerts
-- and p2 for the rest. detected_at = the alert's starts_at; created_at = updated_at = `at`; the
-- escalation clock (escalation_clock_at) starts at `at`, when the portal opened it; group_key = the
-- alert's group key, or 'fingerprint:<fingerprint>' without one (incidents.services.opening).
-- Writes each incident's vendor-visible 'created' timeline row. The alerts are locked (FOR UPDATE):
-- two concurrent calls for one alert open one incident. Runs as the invoker (row-level security
-- applies: an alert the caller cannot see is neither linked nor returned).
CREATE FUNCTION create_incidents_from_alerts(alert_ids uuid[], at timestamptz)
RETURNS TABLE (alert_id uuid, incident_id uuid)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
  IF at IS NULL THEN
    RAISE EXCEPTION 'create_incidents_from_alerts: at is required' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  RETURN QUERY
  WITH picked AS MATERIALIZED (
    SELECT a.id, a.organization_id, a.title, a.description, a.severity, a.source, a.starts_at,
           a.incident_id AS existing, left(coalesce(nullif(a.group_key, ''), 'fingerprint:' || a.fingerprint), 500) AS key
      FROM alert_history a
     WHERE a.id = ANY(alert_ids)
     ORDER BY a.id
       FOR UPDATE
  ),
  fresh AS MATERIALIZED (
    SELECT p.*, gen_random_uuid() AS new_id, coalesce(wp.active, false) AS protocol_on,
           CASE WHEN p.organization_id IS NOT NULL THEN org_local_date(p.organization_id, at) END AS local_day
      FROM picked p
      LEFT JOIN LATERAL wedding_day_protocol(p.organization_id, at) wp ON p.organization_id IS NOT NULL
     WHERE p.existing IS NULL
  ),
  decided AS MATERIALIZED (
    SELECT f.*,
           CASE WHEN f.protocol_on THEN (
             SELECT w.id FROM weddings w
              WHERE w.organization_id = f.organization_id AND w.wedding_date = f.local_day AND w.status <> 'cancelled'
              ORDER BY w.ceremony_time NULLS LAST, w.created_at, w.id
              LIMIT 1)
           END AS wedding
      FROM fresh f
  ),
  made AS (
    INSERT INTO incidents (id, organization_id, title, description, status, priority, severity, wedding_impact,
                           wedding_id, escalation_level, detected_at, created_at, updated_at, group_key,
                           escalation_clock_at)
    SELECT d.new_id, d.organization_id,
           CASE WHEN d.protocol_on THEN left('WEDDING DAY: ' || d.title, 500) ELSE d.title END,
           d.description, 'open',
           CASE WHEN d.protocol_on THEN 'p0' WHEN d.severity IN ('critical', 'emergency') THEN 'p1' ELSE 'p2' END,
           d.severity,
           CASE WHEN d.protocol_on THEN 'wedding_day_critical' ELSE 'none' END::wedding_impact_level,
           d.wedding, 'none', d.starts_at, at, at, d.key, at
      FROM decided d
    RETURNING id
  ),
  created AS (
    INSERT INTO incident_updates (organization_id, incident_id, kind, message, vendor_visible, created_at)
    SELECT d.organization_id, d.new_id, 'created',
           format('Incident opened from %s alert "%s" (%s, %s)', d.source, d.title, d.severity, d.id), true, at
      FROM decided d
    RETURNING incident_id
  ),
  linked AS (
    UPDATE alert_history h SET incident_id = d.new_id FROM decided d WHERE h.id = d.id RETURNING h.id
  )
  SELECT p.id, coalesce(p.existing, d.new_id)
    FROM picked p LEFT JOIN decided d ON d.id = p.id;
END
$$;
