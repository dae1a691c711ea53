-- apm_ensure_metric_partitions(from_day, to_day) -> integer: as in v2 (concurrent-safe, UTC
-- days, at most 400 at once), and now: the owner, a superuser, or a staff or service context
-- (raises insufficient_privilege otherwise), and each partition it creates gets RLS with the
-- tenant policy.
CREATE OR REPLACE FUNCTION apm_ensure_metric_partitions(from_day date, to_day date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  d date;
  created integer := 0;
  part text;
BEGIN
  -- The owner (current_user here: SECURITY DEFINER) and superusers (migrations, benchmarks' seeding)
  -- may call it as themselves; the application role only in a platform context.
  IF NOT (app_is_platform() OR session_user = current_user
          OR coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)) THEN
    RAISE EXCEPTION 'apm_ensure_metric_partitions needs a staff or service context'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
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
        PERFORM apply_tenant_rls(format('public.%I', part)::regclass);
        created := created + 1;
      EXCEPTION WHEN duplicate_table OR unique_violation THEN
        NULL;  -- a concurrent transaction created it first
      END;
    END IF;
    d := d + 1;
  END LOOP;
  RETURN created;
END $$;
REVOKE ALL ON FUNCTION apm_ensure_metric_partitions(date, date) FROM PUBLIC;
