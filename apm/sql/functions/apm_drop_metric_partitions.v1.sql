-- apm_drop_metric_partitions(before_day date) -> integer
-- Drops the daily apm_metrics partitions (apm_metrics_YYYYMMDD) whose whole
-- UTC day lies before before_day: retention (90 days) drops whole days, never
-- deletes rows. SECURITY DEFINER: only the owner may drop tables; staff or
-- service context required (raises insufficient_privilege otherwise).
-- Returns the number of partitions dropped. Only partitions named by
-- apm_ensure_metric_partitions are considered.
CREATE FUNCTION apm_drop_metric_partitions(before_day date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  part text;
  dropped integer := 0;
BEGIN
  IF NOT app_is_platform() THEN
    RAISE EXCEPTION 'apm_drop_metric_partitions needs a staff or service context'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  FOR part IN
    SELECT c.relname FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'public.apm_metrics'::regclass
      AND c.relname ~ '^apm_metrics_[0-9]{8}$'
      AND to_date(substr(c.relname, 13), 'YYYYMMDD') < before_day
    ORDER BY c.relname
  LOOP
    EXECUTE format('DROP TABLE %I', part);
    dropped := dropped + 1;
  END LOOP;
  RETURN dropped;
END $$;
REVOKE ALL ON FUNCTION apm_drop_metric_partitions(date) FROM PUBLIC;
