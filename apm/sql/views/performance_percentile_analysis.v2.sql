-- performance_percentile_analysis (WS-259), now over performance_metrics (issue 18 §1/§2): per
-- organization, service and metric of the last 24 h of raw points: points, wedding-day points, mean,
-- p50/p95/p99 (percentile_cont, linear interpolation) and max over the whole 24 h, the worst hour's
-- p50/p95/p99, and the first and last point's time. Keeps the columns of its first version
-- (apm/sql/0013_monitoring_sql_objects.sql: service, metric_name, points, avg, worst_hourly_*, max,
-- first_bucket, last_bucket) and adds the specification's names (service_name, metric_type, p50,
-- p95, p99). In the metric's unit (ms for latencies). security_invoker: RLS applies.
DROP VIEW performance_percentile_analysis;
CREATE VIEW performance_percentile_analysis WITH (security_invoker = true) AS
WITH recent AS (
  SELECT pm.organization_id, pm.service_name, pm.metric_name, pm.metric_type, pm.metric_value, pm."timestamp",
         pm.is_wedding_day
  FROM performance_metrics pm
  WHERE pm."timestamp" > now() - interval '24 hours'
), hourly AS (
  SELECT r.organization_id, r.service_name, r.metric_name, r.metric_type,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY r.metric_value) AS p50,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY r.metric_value) AS p95,
         percentile_cont(0.99) WITHIN GROUP (ORDER BY r.metric_value) AS p99
  FROM recent r
  GROUP BY r.organization_id, r.service_name, r.metric_name, r.metric_type, date_trunc('hour', r."timestamp")
), overall AS (
  SELECT r.organization_id, r.service_name, r.metric_name, r.metric_type,
         count(*) AS points, count(*) FILTER (WHERE r.is_wedding_day) AS wedding_day_points,
         avg(r.metric_value) AS avg, max(r.metric_value) AS max,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY r.metric_value) AS p50,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY r.metric_value) AS p95,
         percentile_cont(0.99) WITHIN GROUP (ORDER BY r.metric_value) AS p99,
         min(r."timestamp") AS first_bucket, max(r."timestamp") AS last_bucket
  FROM recent r
  GROUP BY r.organization_id, r.service_name, r.metric_name, r.metric_type
)
SELECT o.organization_id, o.service_name AS service, o.metric_name, o.points, o.avg,
       w.worst_hourly_p50, w.worst_hourly_p95, w.worst_hourly_p99, o.max, o.first_bucket, o.last_bucket,
       o.service_name, o.metric_type, o.p50, o.p95, o.p99, o.wedding_day_points
FROM overall o
CROSS JOIN LATERAL (
  SELECT max(h.p50) AS worst_hourly_p50, max(h.p95) AS worst_hourly_p95, max(h.p99) AS worst_hourly_p99
  FROM hourly h
  WHERE h.organization_id = o.organization_id AND h.service_name = o.service_name
    AND h.metric_name = o.metric_name AND h.metric_type IS NOT DISTINCT FROM o.metric_type
) w;
