-- Daily partitions are created ahead by a beat job through this function.
-- SECURITY DEFINER: only the owner may create partitions; the application
-- role calls it. Returns the number of partitions created.
CREATE FUNCTION apm_ensure_metric_partitions(from_day date, to_day date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  d date;
  created integer := 0;
  part text;
BEGIN
  IF to_day - from_day > 400 THEN
    RAISE EXCEPTION 'apm_ensure_metric_partitions: at most 400 days at once (% to %)', from_day, to_day;
  END IF;
  d := from_day;
  WHILE d <= to_day LOOP
    part := 'apm_metrics_' || to_char(d, 'YYYYMMDD');
    IF to_regclass('public.' || part) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF apm_metrics FOR VALUES FROM (%L) TO (%L)',
                     part, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
      created := created + 1;
    END IF;
    d := d + 1;
  END LOOP;
  RETURN created;
END $$;
