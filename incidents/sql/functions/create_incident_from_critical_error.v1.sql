-- create_incident_from_critical_error(error_id uuid, at timestamptz DEFAULT now()) -> uuid (issue 18 §1)
--
-- WS-259's contract for the platform's own jobs: `error_id` is an error report's public_id (a
-- critical one) or an error pattern's public_id (whose worst level is critical). Opens or joins
-- the pattern's incident exactly as incidents.services.incident_open_from_error_pattern does, and
-- returns its id:
--   - one open incident (open, acknowledged, investigating) per (organization, source_ref
--     '<service>:<error type>#<first 12 of the fingerprint>'); while one is open it is joined: a
--     timeline row 'alert' "Error pattern … seen again: n occurrences";
--   - else a new one, source 'error_pattern', severity critical, group_key 'error-pattern:<ref>',
--     detected/created/escalation clock at `at`: p0 'WEDDING DAY: Critical error pattern in …' with
--     wedding_impact wedding_day_critical linked to that local day's wedding (earliest ceremony)
--     while the organization's wedding-day protocol is on at `at` (wedding_day_protocol), else p1;
--     its vendor-visible 'created' timeline row;
--   - the pattern is linked to the incident (error_patterns.incident_id).
-- The same transaction advisory lock as the Python service serialises the two. NULL: no such
-- critical report or pattern visible to the caller (row-level security applies: invoker's rights),
-- or the pattern is ignored. No notification is queued from SQL (as create_incident_from_alert):
-- the escalation beat pages for the incident on its clock.
CREATE FUNCTION create_incident_from_critical_error(error_id uuid, at timestamptz DEFAULT now()) RETURNS uuid
LANGUAGE plpgsql VOLATILE SET search_path = public AS $$
DECLARE
  p record;
  v_message text;
  v_ref text;
  v_signature text;
  v_incident uuid;
  v_on boolean;
  v_reason text;
  v_wedding uuid;
  v_title text;
BEGIN
  IF error_id IS NULL OR at IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT ep.id, ep.organization_id, ep.service, ep.error_type, ep.fingerprint, ep.status, ep.occurrence_count,
         r.message AS report_message
    INTO p
    FROM error_reports r JOIN error_patterns ep ON ep.id = r.pattern_id
   WHERE r.public_id = error_id AND r.level = 'critical';
  IF NOT FOUND THEN
    SELECT ep.id, ep.organization_id, ep.service, ep.error_type, ep.fingerprint, ep.status, ep.occurrence_count,
           (SELECT r.message FROM error_reports r WHERE r.pattern_id = ep.id
             ORDER BY r.occurred_at DESC, r.id DESC LIMIT 1) AS report_message
      INTO p
      FROM error_patterns ep
     WHERE ep.public_id = error_id AND ep.level = 'critical';
    IF NOT FOUND THEN
      RETURN NULL;
    END IF;
  END IF;
  IF p.status = 'ignored' THEN
    RETURN NULL;
  END IF;
  v_message := coalesce(p.report_message, p.error_type);
  v_signature := p.error_type || '#' || left(p.fingerprint, 12);
  v_ref := left(p.service || ':' || v_signature, 200);
  PERFORM pg_advisory_xact_lock(hashtextextended('incident-ep:' || p.organization_id::text || ':' || v_ref, 0));
  SELECT i.id INTO v_incident FROM incidents i
   WHERE i.source = 'error_pattern' AND i.source_ref = v_ref AND i.organization_id = p.organization_id
     AND i.status IN ('open', 'acknowledged', 'investigating')
   ORDER BY i.detected_at DESC LIMIT 1;
  IF FOUND THEN
    INSERT INTO incident_updates (organization_id, incident_id, kind, message, vendor_visible, created_at)
    VALUES (p.organization_id, v_incident, 'alert',
            format('Error pattern %s seen again: %s occurrences', v_ref, p.occurrence_count), false, at);
  ELSE
    SELECT wp.active, wp.reason INTO v_on, v_reason FROM wedding_day_protocol(p.organization_id, at) wp;
    v_on := coalesce(v_on, false);
    IF v_on THEN
      SELECT w.id INTO v_wedding FROM weddings w
       WHERE w.organization_id = p.organization_id AND w.wedding_date = org_local_date(p.organization_id, at)
         AND w.status <> 'cancelled'
       ORDER BY w.ceremony_time NULLS LAST, w.created_at, w.id LIMIT 1;
    END IF;
    v_title := 'Critical error pattern in ' || p.service || ': ' || left(btrim(v_message), 300);
    INSERT INTO incidents (organization_id, title, description, status, priority, severity, wedding_impact,
                           wedding_id, escalation_level, source, source_ref, group_key, detected_at, created_at,
                           updated_at, escalation_clock_at)
    VALUES (p.organization_id, left(CASE WHEN v_on THEN 'WEDDING DAY: ' || v_title ELSE v_title END, 500),
            format(E'%s occurrences of %s in %s.\n\n%s', p.occurrence_count, v_signature, p.service, v_message),
            'open', CASE WHEN v_on THEN 'p0' ELSE 'p1' END, 'critical',
            CASE WHEN v_on THEN 'wedding_day_critical' ELSE 'none' END::wedding_impact_level,
            v_wedding, 'none', 'error_pattern', v_ref, left('error-pattern:' || v_ref, 500), at, at, at, at)
    RETURNING id INTO v_incident;
    INSERT INTO incident_updates (organization_id, incident_id, kind, message, vendor_visible, created_at)
    VALUES (p.organization_id, v_incident, 'created',
            format('Incident opened from critical error pattern %s (%s occurrences)', v_ref, p.occurrence_count)
            || CASE WHEN v_on THEN '; ' || v_reason ELSE '' END, true, at);
  END IF;
  UPDATE error_patterns SET incident_id = v_incident WHERE id = p.id AND incident_id IS DISTINCT FROM v_incident;
  RETURN v_incident;
END $$;
