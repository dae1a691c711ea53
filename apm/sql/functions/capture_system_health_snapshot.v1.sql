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
