-- system_health_overview: one row per organization the caller sees.
CREATE VIEW system_health_overview WITH (security_invoker = true) AS
SELECT o.id AS organization_id, o.slug AS organization_slug,
       (SELECT count(*) FROM incidents i WHERE i.organization_id = o.id
          AND i.status IN ('open', 'acknowledged', 'investigating')) AS open_incidents,
       (SELECT count(*) FROM alert_history a WHERE a.organization_id = o.id AND a.status = 'firing') AS firing_alerts,
       (SELECT count(*) FROM error_patterns e WHERE e.organization_id = o.id AND e.status = 'unresolved')
         AS unresolved_error_patterns,
       (SELECT count(*) FROM service_health_checks c WHERE c.organization_id = o.id AND c.enabled
          AND c.status = 'critical') AS critical_health_checks,
       (SELECT count(*) FROM service_health_checks c WHERE c.organization_id = o.id AND c.enabled
          AND c.status = 'warning') AS warning_health_checks,
       (SELECT max(a.bucket_start) FROM apm_metric_aggregations a WHERE a.organization_id = o.id
          AND a.bucket_seconds = 60) AS last_metric_bucket,
       CASE WHEN EXISTS (SELECT 1 FROM incidents i WHERE i.organization_id = o.id AND i.priority = 'p0'
                           AND i.status IN ('open', 'acknowledged', 'investigating'))
              OR EXISTS (SELECT 1 FROM service_health_checks c WHERE c.organization_id = o.id AND c.enabled
                           AND c.status = 'critical')
            THEN 'critical'::service_status
            WHEN EXISTS (SELECT 1 FROM incidents i WHERE i.organization_id = o.id
                           AND i.status IN ('open', 'acknowledged', 'investigating'))
              OR EXISTS (SELECT 1 FROM service_health_checks c WHERE c.organization_id = o.id AND c.enabled
                           AND c.status = 'warning')
              OR EXISTS (SELECT 1 FROM alert_history a WHERE a.organization_id = o.id AND a.status = 'firing')
            THEN 'warning'::service_status
            ELSE 'healthy'::service_status END AS overall_status
FROM organizations o;
