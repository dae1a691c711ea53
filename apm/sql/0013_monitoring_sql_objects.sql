-- SQL objects of DESIGN.md's contract owned by apm: system_health_snapshots
-- with capture_system_health_snapshot(), cleanup_monitoring_data(), and the
-- views system_health_overview, error_trending_analysis,
-- performance_percentile_analysis, saturday_monitoring. The views run with
-- the caller's rights (security_invoker), so RLS applies to them as to the
-- tables: a vendor sees its organization's rows, no context sees nothing.

CREATE TABLE system_health_snapshots (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    captured_at              timestamptz NOT NULL,
    organizations            integer NOT NULL,
    metric_points_last_hour  bigint NOT NULL,   -- points in 1-minute aggregations of the last hour
    error_reports_last_hour  bigint NOT NULL,
    unresolved_error_patterns integer NOT NULL,
    health_checks_by_status  jsonb NOT NULL,    -- {"healthy": n, "warning": n, ...}
    open_incidents           integer NOT NULL,
    open_p0_incidents        integer NOT NULL,
    firing_alerts            integer NOT NULL,
    database_size_bytes      bigint NOT NULL,
    database_connections     integer NOT NULL
);
CREATE INDEX system_health_snapshots_captured_at ON system_health_snapshots (captured_at);
SELECT apply_staff_only_rls('system_health_snapshots');

-- capture_system_health_snapshot(at) -> bigint: writes one snapshot of the
-- platform at `at` (default now()) and returns its id. Staff or service
-- context only (a vendor context would count one organization): raises
-- insufficient_privilege otherwise. Beat runs it every 5 minutes.
CREATE FUNCTION capture_system_health_snapshot(at timestamptz DEFAULT now()) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = public AS $$
DECLARE
  new_id bigint;
BEGIN
  IF NOT app_is_platform() THEN
    RAISE EXCEPTION 'capture_system_health_snapshot needs a staff or service context'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  INSERT INTO system_health_snapshots (
      captured_at, organizations, metric_points_last_hour, error_reports_last_hour, unresolved_error_patterns,
      health_checks_by_status, open_incidents, open_p0_incidents, firing_alerts, database_size_bytes,
      database_connections)
  SELECT at,
         (SELECT count(*) FROM organizations),
         (SELECT coalesce(sum(count), 0) FROM apm_metric_aggregations
           WHERE bucket_seconds = 60 AND bucket_start > at - interval '1 hour' AND bucket_start <= at),
         (SELECT count(*) FROM error_reports WHERE occurred_at > at - interval '1 hour' AND occurred_at <= at),
         (SELECT count(*) FROM error_patterns WHERE status = 'unresolved'),
         (SELECT coalesce(jsonb_object_agg(status, n), '{}'::jsonb)
            FROM (SELECT status::text, count(*) AS n FROM service_health_checks WHERE enabled GROUP BY status) s),
         (SELECT count(*) FROM incidents WHERE status IN ('open', 'acknowledged', 'investigating')),
         (SELECT count(*) FROM incidents WHERE status IN ('open', 'acknowledged', 'investigating') AND priority = 'p0'),
         (SELECT count(*) FROM alert_history WHERE status = 'firing'),
         pg_database_size(current_database()),
         (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database())
  RETURNING id INTO new_id;
  RETURN new_id;
END $$;

-- cleanup_monitoring_data(at) -> integer: platform retention at `at`
-- (default now()); returns the rows deleted. Deletes raw metric points,
-- aggregations, error reports, health-check results and transitions and
-- system health snapshots older than 90 days, and closed incidents closed
-- more than a year ago (with their timeline; links to them from alerts,
-- deliveries, error patterns and merged incidents are cleared). Incidents
-- with a post-incident analysis are kept. Staff or service context only.
-- Whole expired days of apm_metrics are dropped by apm_drop_metric_partitions;
-- this removes what is left of the boundary day.
CREATE FUNCTION cleanup_monitoring_data(at timestamptz DEFAULT now()) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = public AS $$
DECLARE
  keep_after constant timestamptz := at - interval '90 days';
  total integer := 0;
  n integer;
  old_incidents uuid[];
BEGIN
  IF NOT app_is_platform() THEN
    RAISE EXCEPTION 'cleanup_monitoring_data needs a staff or service context'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  DELETE FROM apm_metrics WHERE recorded_at < keep_after;                 GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  DELETE FROM apm_metric_aggregations WHERE bucket_start < keep_after;   GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  DELETE FROM error_reports WHERE occurred_at < keep_after;              GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  DELETE FROM service_health_results WHERE checked_at < keep_after;      GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  DELETE FROM service_health_transitions t WHERE t.at < keep_after;GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  DELETE FROM system_health_snapshots WHERE captured_at < keep_after;    GET DIAGNOSTICS n = ROW_COUNT; total := total + n;

  SELECT coalesce(array_agg(i.id), '{}') INTO old_incidents FROM incidents i
  WHERE i.status = 'closed' AND i.closed_at < at - interval '1 year'
    AND NOT EXISTS (SELECT 1 FROM post_incident_analysis p WHERE p.incident_id = i.id);
  IF cardinality(old_incidents) > 0 THEN
    UPDATE alert_history SET incident_id = NULL WHERE incident_id = ANY(old_incidents);
    UPDATE notification_deliveries SET incident_id = NULL WHERE incident_id = ANY(old_incidents);
    UPDATE error_patterns SET incident_id = NULL WHERE incident_id = ANY(old_incidents);
    UPDATE incidents SET merged_into_id = NULL WHERE merged_into_id = ANY(old_incidents);
    DELETE FROM incident_updates WHERE incident_id = ANY(old_incidents);  GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
    DELETE FROM incidents WHERE id = ANY(old_incidents);                  GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  END IF;
  RETURN total;
END $$;

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

-- error_trending_analysis: per error pattern, reports in the last 24 h
-- against the 24 h before; trend = last / previous (NULL when previous is 0).
CREATE VIEW error_trending_analysis WITH (security_invoker = true) AS
SELECT p.organization_id, p.id AS pattern_id, p.service, p.error_type, p.normalized_message, p.status, p.level,
       p.occurrence_count, p.last_seen,
       count(r.id) FILTER (WHERE r.occurred_at > now() - interval '24 hours') AS reports_last_24h,
       count(r.id) FILTER (WHERE r.occurred_at <= now() - interval '24 hours') AS reports_previous_24h,
       round((count(r.id) FILTER (WHERE r.occurred_at > now() - interval '24 hours'))::numeric
             / NULLIF(count(r.id) FILTER (WHERE r.occurred_at <= now() - interval '24 hours'), 0), 2) AS trend
FROM error_patterns p
LEFT JOIN error_reports r ON r.pattern_id = p.id AND r.occurred_at > now() - interval '48 hours'
GROUP BY p.id;

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
