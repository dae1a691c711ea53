-- performance_percentile_analysis: per organization, service and metric,
-- over the hourly aggregations of the last 24 h: points, weighted mean,
-- worst hourly p50/p95/p99 and max (in the metric's unit).
CREATE VIEW performance_percentile_analysis WITH (security_invoker = true) AS
SELECT a.organization_id, a.service, a.metric_name,
       sum(a.count) AS points, sum(a.sum) / NULLIF(sum(a.count), 0) AS avg,
       max(a.p50) AS worst_hourly_p50, max(a.p95) AS worst_hourly_p95, max(a.p99) AS worst_hourly_p99,
       max(a.max) AS max, min(a.bucket_start) AS first_bucket, max(a.bucket_start) AS last_bucket
FROM apm_metric_aggregations a
WHERE a.bucket_seconds = 3600 AND a.bucket_start > now() - interval '24 hours'
GROUP BY a.organization_id, a.service, a.metric_name;
