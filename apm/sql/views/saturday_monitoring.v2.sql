-- saturday_monitoring (WS-259), version 2 (issue 18 §1): the columns of version 1
-- (apm/sql/0013_monitoring_sql_objects.sql) and, appended, the errors of the last 24 h by
-- error_reports.is_wedding_day and severity, and the open incidents detected on a local Saturday
-- (incidents.is_saturday_incident). security_invoker: RLS applies.
CREATE OR REPLACE VIEW saturday_monitoring WITH (security_invoker = true) AS
SELECT o.id AS organization_id, o.slug AS organization_slug, o.timezone,
       (now() AT TIME ZONE o.timezone)::date AS local_date,
       extract(isodow FROM (now() AT TIME ZONE o.timezone)::date) = 6 AS is_local_saturday,
       p.active AS wedding_day_protocol, p.reason AS protocol_reason,
       (SELECT count(*) FROM weddings w WHERE w.organization_id = o.id AND w.status <> 'cancelled'
          AND w.wedding_date = (now() AT TIME ZONE o.timezone)::date) AS weddings_today,
       (SELECT count(*) FROM incidents i WHERE i.organization_id = o.id
          AND i.status IN ('open', 'acknowledged', 'investigating')) AS open_incidents,
       (SELECT count(*) FROM alert_history a WHERE a.organization_id = o.id AND a.status = 'firing') AS firing_alerts,
       (SELECT count(*) FROM service_health_checks c WHERE c.organization_id = o.id AND c.enabled
          AND c.status = 'critical') AS critical_health_checks,
       (SELECT count(*) FROM error_patterns e WHERE e.organization_id = o.id AND e.status = 'unresolved'
          AND e.level = 'critical' AND e.last_seen > now() - interval '24 hours') AS critical_errors_24h,
       (SELECT count(*) FROM error_reports r WHERE r.organization_id = o.id
          AND r.created_at > now() - interval '24 hours') AS errors_24h,
       (SELECT count(*) FROM error_reports r WHERE r.organization_id = o.id
          AND r.created_at > now() - interval '24 hours' AND r.is_wedding_day) AS wedding_day_errors_24h,
       (SELECT count(*) FROM error_reports r WHERE r.organization_id = o.id
          AND r.created_at > now() - interval '24 hours' AND r.severity = 'wedding_emergency')
         AS wedding_emergency_errors_24h,
       (SELECT count(*) FROM incidents i WHERE i.organization_id = o.id AND i.is_saturday_incident
          AND i.status IN ('open', 'acknowledged', 'investigating')) AS open_saturday_incidents
FROM organizations o
CROSS JOIN LATERAL wedding_day_protocol(o.id, now()) p;
