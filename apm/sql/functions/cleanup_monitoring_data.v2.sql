-- cleanup_monitoring_data(at) -> integer: platform retention at `at`
-- (default now()); returns the rows deleted. Deletes raw metric points and histogram points (v2),
-- aggregations, error reports, health-check results and transitions and
-- system health snapshots older than 90 days, and closed incidents closed
-- more than a year ago (with their timeline; links to them from alerts,
-- deliveries, error patterns and merged incidents are cleared). Incidents
-- with a post-incident analysis are kept. Staff or service context only.
-- Whole expired days of apm_metrics are dropped by apm_drop_metric_partitions;
-- this removes what is left of the boundary day.
CREATE OR REPLACE FUNCTION cleanup_monitoring_data(at timestamptz DEFAULT now()) RETURNS integer
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
  DELETE FROM apm_metric_histograms WHERE recorded_at < keep_after;      GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
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
