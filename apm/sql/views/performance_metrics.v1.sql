-- performance_metrics (WS-259): apm_metrics in the specification's terms, one store, no copy
-- (issue 18 §2). security_invoker: apm_metrics' row-level security applies to the caller.
--   service_name   = service
--   metric_type    = performance_metric_type_of(metric_name, unit) (NULL: not a performance metric)
--   metric_value   = value (in unit; ms for latencies)
--   endpoint       = the point's tag endpoint, http.route, route or path (first present)
--   status_code    = tag status_code / http.status_code / http.response.status_code (3 digits), or a
--                    status class tag such as "5xx" read as 500
--   timestamp      = recorded_at
--   is_wedding_day = wedding_context->>'is_wedding_day'
-- Index equivalents on the partitions: idx_performance_metrics_service_type is
-- idx_apm_metrics_org_service_metric_time (organization_id, service, metric_name, recorded_at; row-level
-- security always adds the organization), idx_performance_metrics_timestamp is the BRIN index
-- idx_apm_metrics_recorded_brin (recorded_at) with daily partition pruning.
CREATE VIEW performance_metrics WITH (security_invoker = true) AS
SELECT m.id, m.organization_id, m.service AS service_name, m.metric_name,
       performance_metric_type_of(m.metric_name, m.unit) AS metric_type,
       m.value AS metric_value, m.unit,
       coalesce(m.tags->>'endpoint', m.tags->>'http.route', m.tags->>'route', m.tags->>'path') AS endpoint,
       CASE WHEN coalesce(m.tags->>'status_code', m.tags->>'http.status_code', m.tags->>'http.response.status_code')
                 ~ '^[1-5][0-9][0-9]$'
            THEN coalesce(m.tags->>'status_code', m.tags->>'http.status_code', m.tags->>'http.response.status_code')::integer
            WHEN m.tags->>'status' ~ '^[1-5]xx$' THEN left(m.tags->>'status', 1)::integer * 100
       END AS status_code,
       m.recorded_at AS "timestamp", m.wedding_context,
       coalesce((m.wedding_context->>'is_wedding_day')::boolean, false) AS is_wedding_day,
       m.tags
FROM apm_metrics m;
