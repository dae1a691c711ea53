-- saturday_monitoring: per organization, its local date now, whether the
-- wedding-day protocol is on (a wedding that day or a local Saturday) and
-- why, the weddings that day, and what needs attention.
CREATE VIEW saturday_monitoring WITH (security_invoker = true) AS
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
          AND e.level = 'critical' AND e.last_seen > now() - interval '24 hours') AS critical_errors_24h
FROM organizations o
CROSS JOIN LATERAL wedding_day_protocol(o.id, now()) p;
