-- aggregate_metrics(bucket) -> integer
--
-- For buckets of width `bucket` (1 second .. 1 day, no months; aligned to the
-- Unix epoch in UTC, so 1 hour buckets start on the hour), computes count,
-- sum, min, max, avg and p50/p95/p99 (percentile_cont: linear interpolation)
-- per organization, service and metric_name, and upserts them into
-- apm_metric_aggregations (bucket_seconds = extract(epoch from bucket)).
-- Returns the number of aggregation rows inserted or changed: a bucket whose
-- statistics are already up to date is not rewritten, so running twice in a
-- row returns 0 the second time.
--
-- Incremental: only buckets that received a row with ingested_at after the
-- width's watermark, minus a 2-minute overlap, are recomputed, each from all
-- of its rows. The overlap catches rows of transactions that started before
-- the previous run (ingested_at is their start time) and committed after it;
-- recomputing a bucket is idempotent. Late data (an old recorded_at ingested
-- now) therefore re-aggregates its old bucket.
--
-- Concurrent runs of one width are serialised by a transaction-level advisory
-- lock (key: hashtext('aggregate_metrics'), bucket_seconds); different widths
-- run in parallel.
--
-- Runs with the caller's rights, so RLS applies: it needs a staff or service
-- context (a vendor context would see one organization and move the
-- watermark past the others' rows), and raises insufficient_privilege
-- otherwise. A bad width raises invalid_parameter_value.
CREATE FUNCTION aggregate_metrics(bucket interval) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = public AS $$
DECLARE
  overlap  constant interval := interval '2 minutes';
  origin   constant timestamptz := timestamptz '1970-01-01 00:00:00+00';
  secs     numeric;
  width    integer;
  mark     timestamptz;
  new_mark timestamptz;
  written  integer;
BEGIN
  secs := extract(epoch FROM bucket);
  IF bucket IS NULL OR date_part('month', bucket) <> 0 OR date_part('year', bucket) <> 0
     OR secs < 1 OR secs > 86400 OR secs <> trunc(secs) THEN
    RAISE EXCEPTION 'aggregate_metrics: bucket must be a whole number of seconds from 1 second to 1 day, got %', bucket
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT app_is_platform() THEN
    RAISE EXCEPTION 'aggregate_metrics needs a staff or service context (app.role is %)', quote_literal(app_role())
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  width := secs::integer;

  PERFORM pg_advisory_xact_lock(hashtext('aggregate_metrics'), width);

  -- Each statement below takes a fresh snapshot (READ COMMITTED), so a run
  -- that waited for the lock sees the watermark the previous run committed.
  SELECT w.last_ingested_at INTO mark FROM apm_aggregation_watermarks w WHERE w.bucket_seconds = width;
  mark := coalesce(mark, '-infinity'::timestamptz);

  -- The new watermark is read before aggregating: rows committed in between
  -- are aggregated now and recomputed (idempotently) next time.
  SELECT max(m.ingested_at) INTO new_mark FROM apm_metrics m WHERE m.ingested_at > mark - overlap;

  WITH touched AS (
    SELECT DISTINCT m.organization_id, m.service, m.metric_name,
           date_bin(bucket, m.recorded_at, origin) AS bucket_start
    FROM apm_metrics m
    WHERE m.ingested_at > mark - overlap
  ), stats AS (
    SELECT t.organization_id, t.service, t.metric_name, t.bucket_start,
           count(*) AS n, sum(m.value) AS total, min(m.value) AS lo, max(m.value) AS hi, avg(m.value) AS mean,
           percentile_cont(ARRAY[0.5, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY m.value) AS pct
    FROM touched t
    JOIN apm_metrics m
      ON m.organization_id = t.organization_id AND m.service = t.service AND m.metric_name = t.metric_name
     AND m.recorded_at >= t.bucket_start AND m.recorded_at < t.bucket_start + bucket
    GROUP BY t.organization_id, t.service, t.metric_name, t.bucket_start
  )
  INSERT INTO apm_metric_aggregations AS a
         (organization_id, service, metric_name, bucket_seconds, bucket_start,
          count, sum, min, max, avg, p50, p95, p99, updated_at)
  SELECT s.organization_id, s.service, s.metric_name, width, s.bucket_start,
         s.n, s.total, s.lo, s.hi, s.mean, s.pct[1], s.pct[2], s.pct[3], clock_timestamp()
  FROM stats s
  ON CONFLICT ON CONSTRAINT idx_apm_aggregations_bucket_key DO UPDATE
     SET count = EXCLUDED.count, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max,
         avg = EXCLUDED.avg, p50 = EXCLUDED.p50, p95 = EXCLUDED.p95, p99 = EXCLUDED.p99,
         updated_at = EXCLUDED.updated_at
   WHERE (a.count, a.sum, a.min, a.max, a.avg, a.p50, a.p95, a.p99)
         IS DISTINCT FROM
         (EXCLUDED.count, EXCLUDED.sum, EXCLUDED.min, EXCLUDED.max,
          EXCLUDED.avg, EXCLUDED.p50, EXCLUDED.p95, EXCLUDED.p99);
  GET DIAGNOSTICS written = ROW_COUNT;

  IF new_mark IS NOT NULL THEN
    INSERT INTO apm_aggregation_watermarks AS w (bucket_seconds, last_ingested_at, updated_at)
    VALUES (width, new_mark, clock_timestamp())
    ON CONFLICT (bucket_seconds) DO UPDATE
       SET last_ingested_at = greatest(w.last_ingested_at, EXCLUDED.last_ingested_at),
           updated_at = EXCLUDED.updated_at;
  END IF;
  RETURN written;
END $$;
