-- incidents.group_key for incidents opened before it existed: their first alert's group key (or
-- fingerprint), so an alert of the same problem joins or reopens them (incidents.services.opening).
UPDATE incidents i
   SET group_key = left(coalesce(nullif(a.group_key, ''), 'fingerprint:' || a.fingerprint), 500)
  FROM (SELECT DISTINCT ON (incident_id) incident_id, group_key, fingerprint
          FROM alert_history WHERE incident_id IS NOT NULL ORDER BY incident_id, starts_at) a
 WHERE a.incident_id = i.id AND i.group_key = '';
UPDATE incidents SET escalation_clock_at = coalesce(last_escalated_at, created_at) WHERE escalation_clock_at IS NULL;
