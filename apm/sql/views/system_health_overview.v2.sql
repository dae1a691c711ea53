-- system_health_overview (WS-259), version 2 (issue 18 §1/§2): the columns of version 1
-- (apm/sql/0013_monitoring_sql_objects.sql) and, appended, the errors of the last 24 h (all, and on
-- wedding days), and the last hour's worst endpoint p95 (ms) and error rate (0..1) from
-- api_performance. security_invoker: RLS applies.
CREATE OR REPLACE VIEW system_health_overview WITH (security_invoker = true) AS
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
            ELSE 'healthy'::service_status END AS overall_status,
       (SELECT count(*) FROM error_reports r WHERE r.organization_id = o.id
          AND r.created_at > now() - interval '24 hours') AS errors_24h,
       (SELECT count(*) FROM error_reports r WHERE r.organization_id = o.id
          AND r.created_at > now() - interval '24 hours' AND r.is_wedding_day) AS wedding_day_errors_24h,
       (SELECT max(a.p95_ms) FROM api_performance a WHERE a.organization_id = o.id
          AND a.bucket_start > now() - interval '1 hour') AS worst_api_p95_ms_last_hour,
       (SELECT sum(a.error_count)::float8 / NULLIF(sum(a.request_count), 0) FROM api_performance a
          WHERE a.organization_id = o.id AND a.bucket_start > now() - interval '1 hour') AS api_error_rate_last_hour
FROM organizations o;
