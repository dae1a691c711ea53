-- apm_ensure_metric_partitions(from_day, to_day) -> integer, safe when two
-- transactions create the same day at once (two ingest requests with late
-- data, or an ingest and the beat job): the loser waits for the winner's
-- lock on apm_metrics and then finds the partition already there
-- (duplicate_table, or unique_violation in the catalog), which is not an
-- error. Returns the number of partitions this call created.
-- Days are UTC days: partition apm_metrics_YYYYMMDD holds [day 00:00 UTC, day+1 00:00 UTC).
-- Raises when asked for more than 400 days at once.
CREATE OR REPLACE FUNCTION apm_ensure_metric_partitions(from_day date, to_day date) RETURNS integer
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
      BEGIN
        EXECUTE format('CREATE TABLE %I PARTITION OF apm_metrics FOR VALUES FROM (%L) TO (%L)',
                       part, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
        created := created + 1;
      EXCEPTION WHEN duplicate_table OR unique_violation THEN
        NULL;  -- a concurrent transaction created it first
      END;
    END IF;
    d := d + 1;
  END LOOP;
  RETURN created;
END $$;
