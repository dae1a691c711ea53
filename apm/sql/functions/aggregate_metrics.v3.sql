-- aggregate_metrics(bucket) -> integer, v3: same contract as v1/v2
-- (incremental, idempotent, serialised per width, staff/service only), plus:
--
-- 1. Histograms. Histogram points (apm_metric_histograms, delta form) are
--    aggregated into the same apm_metric_aggregations rows by
--    aggregate_metric_histograms(bucket), which aggregate_metrics calls last
--    (its return value adds to the rows written). count and sum add up;
--    min/max are the points' own when every point sent them, else the
--    quantile-0/1 estimates of the merged buckets; p50/p95/p99 come from
--    the merged buckets by apm_histogram_quantiles (below): Prometheus'
--    histogram_quantile() method (promql/quantile.go, bucketQuantile):
--    the rank q·count is located in the cumulative bucket counts and
--    interpolated linearly inside its bucket. Where Prometheus has to assume
--    (the lowest bucket starts at 0 when its upper bound is positive, else
--    the answer is that bound; a rank in the +Inf bucket answers the highest
--    finite bound), the points' own min/max bound the open buckets instead
--    when every point sent them, and every answer is clamped to [min, max].
--    Points of one bucket with different layouts are merged interval by
--    interval (sorted by upper bound): exact for a common layout, an
--    approximation otherwise. A (service, metric) is a gauge or a
--    histogram: were it both, the histogram statistics win.
-- 2. A faster first run: when every row is newer than the watermark (a
--    first run, a backlog older than any row), the span is the table's own
--    (min/max of recorded_at read from the indexes) and goes straight to the
--    "span" GROUP BY, instead of a scan of every row for the span and a
--    second scan to prove that no older row lies in it.

CREATE OR REPLACE FUNCTION aggregate_metrics(bucket interval) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = public AS $$
DECLARE
  overlap  constant interval := interval '2 minutes';
  origin   constant timestamptz := timestamptz '1970-01-01 00:00:00+00';
  many     constant integer := 20000;
  secs     numeric;
  width    integer;
  mark     timestamptz;
  new_mark timestamptz;
  lo       timestamptz;
  hi       timestamptz;
  touched  integer;
  nestloop text;
  mode     text;
  written  integer;
  oldest   timestamptz;
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

  SELECT w.last_ingested_at INTO mark FROM apm_aggregation_watermarks w WHERE w.bucket_seconds = width;
  mark := coalesce(mark, '-infinity'::timestamptz);
  SELECT max(m.ingested_at) INTO new_mark FROM apm_metrics m;
  IF new_mark IS NULL OR new_mark <= mark - overlap THEN
    RETURN aggregate_metric_histograms(bucket);
  END IF;

  SELECT min(m.ingested_at) INTO oldest FROM apm_metrics m;
  IF oldest > mark - overlap THEN
    -- Every row is new (a first run, or a backlog older than any row): the
    -- span is the whole table's, read at both ends of the recorded_at
    -- indexes instead of by a scan of every row (and no older row can lie
    -- in it, so no check either).
    SELECT date_bin(bucket, min(m.recorded_at), origin), date_bin(bucket, max(m.recorded_at), origin) + bucket
      INTO lo, hi
    FROM apm_metrics m;
    mode := 'span';
  ELSE
  -- The recorded_at span of the new rows, widened to whole buckets.
  -- "+ interval '0'": no min/max through the recorded_at index, which would
  -- walk the table from its oldest row looking for a new one; the
  -- ingested_at index finds the new rows directly.
  SELECT date_bin(bucket, min(m.recorded_at + interval '0'), origin),
         date_bin(bucket, max(m.recorded_at + interval '0'), origin) + bucket
    INTO lo, hi
  FROM apm_metrics m WHERE m.ingested_at > mark - overlap AND m.ingested_at <= new_mark;
  IF lo IS NULL THEN
    RETURN aggregate_metric_histograms(bucket);
  END IF;
  END IF;

  -- "+ interval '0'" keeps the planner off the ingested_at index here: the
  -- rows at issue are found through the recorded_at range; scanning
  -- ingested_at from the oldest row would read the whole table first.
  IF mode = 'span' THEN
    NULL;
  ELSIF NOT EXISTS (SELECT 1 FROM apm_metrics m
                 WHERE m.recorded_at >= lo AND m.recorded_at < hi
                   AND m.ingested_at + interval '0' <= mark - overlap) THEN
    -- Every row of the span is new (a first run, a backlog): every bucket
    -- of the span is touched, so aggregate the span in one GROUP BY.
    mode := 'span';
  ELSE
    CREATE TEMP TABLE IF NOT EXISTS apm_aggregate_touched (
        organization_id uuid NOT NULL, service text NOT NULL, metric_name text NOT NULL,
        bucket_start timestamptz NOT NULL) ON COMMIT DELETE ROWS;
    DELETE FROM apm_aggregate_touched;
    INSERT INTO apm_aggregate_touched
    SELECT DISTINCT m.organization_id, m.service, m.metric_name, date_bin(bucket, m.recorded_at, origin)
    FROM apm_metrics m
    WHERE m.ingested_at > mark - overlap AND m.ingested_at <= new_mark;
    GET DIAGNOSTICS touched = ROW_COUNT;
    -- Statistics of the temporary table, so that the planner probes by index
    -- for a few buckets instead of scanning apm_metrics.
    ANALYZE apm_aggregate_touched;
    mode := CASE WHEN touched <= many OR hi - lo > interval '2 days' THEN 'probe' ELSE 'hash' END;
  END IF;

  IF mode = 'probe' THEN
    WITH stats AS (
      SELECT t.organization_id, t.service, t.metric_name, t.bucket_start,
             count(*) AS n, sum(m.value) AS total, min(m.value) AS lo, max(m.value) AS hi, avg(m.value) AS mean,
             percentile_cont(ARRAY[0.5, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY m.value) AS pct
      FROM apm_aggregate_touched t
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
     WHERE (a.count, a.min, a.max, a.p50, a.p95, a.p99)
           IS DISTINCT FROM (EXCLUDED.count, EXCLUDED.min, EXCLUDED.max, EXCLUDED.p50, EXCLUDED.p95, EXCLUDED.p99)
        OR abs(a.sum - EXCLUDED.sum) > 1e-12 * greatest(abs(a.sum), abs(EXCLUDED.sum))
        OR abs(a.avg - EXCLUDED.avg) > 1e-12 * greatest(abs(a.avg), abs(EXCLUDED.avg));
    GET DIAGNOSTICS written = ROW_COUNT;
  ELSIF mode = 'span' THEN
    WITH stats AS (
      SELECT m.organization_id, m.service, m.metric_name, date_bin(bucket, m.recorded_at, origin) AS bucket_start,
             count(*) AS n, sum(m.value) AS total, min(m.value) AS lo, max(m.value) AS hi, avg(m.value) AS mean,
             percentile_cont(ARRAY[0.5, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY m.value) AS pct
      FROM apm_metrics m
      WHERE m.recorded_at >= lo AND m.recorded_at < hi
      GROUP BY 1, 2, 3, 4
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
     WHERE (a.count, a.min, a.max, a.p50, a.p95, a.p99)
           IS DISTINCT FROM (EXCLUDED.count, EXCLUDED.min, EXCLUDED.max, EXCLUDED.p50, EXCLUDED.p95, EXCLUDED.p99)
        OR abs(a.sum - EXCLUDED.sum) > 1e-12 * greatest(abs(a.sum), abs(EXCLUDED.sum))
        OR abs(a.avg - EXCLUDED.avg) > 1e-12 * greatest(abs(a.avg), abs(EXCLUDED.avg));
    GET DIAGNOSTICS written = ROW_COUNT;
  ELSE
    nestloop := current_setting('enable_nestloop');
    PERFORM set_config('enable_nestloop', 'off', true);
    WITH stats AS (
      SELECT m.organization_id, m.service, m.metric_name, date_bin(bucket, m.recorded_at, origin) AS bucket_start,
             count(*) AS n, sum(m.value) AS total, min(m.value) AS lo, max(m.value) AS hi, avg(m.value) AS mean,
             percentile_cont(ARRAY[0.5, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY m.value) AS pct
      FROM apm_metrics m
      JOIN apm_aggregate_touched t
        ON t.organization_id = m.organization_id AND t.service = m.service AND t.metric_name = m.metric_name
       AND t.bucket_start = date_bin(bucket, m.recorded_at, origin)
      WHERE m.recorded_at >= lo AND m.recorded_at < hi
      GROUP BY 1, 2, 3, 4
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
     WHERE (a.count, a.min, a.max, a.p50, a.p95, a.p99)
           IS DISTINCT FROM (EXCLUDED.count, EXCLUDED.min, EXCLUDED.max, EXCLUDED.p50, EXCLUDED.p95, EXCLUDED.p99)
        OR abs(a.sum - EXCLUDED.sum) > 1e-12 * greatest(abs(a.sum), abs(EXCLUDED.sum))
        OR abs(a.avg - EXCLUDED.avg) > 1e-12 * greatest(abs(a.avg), abs(EXCLUDED.avg));
    GET DIAGNOSTICS written = ROW_COUNT;
    PERFORM set_config('enable_nestloop', nestloop, true);
  END IF;
  IF mode <> 'span' THEN
    DELETE FROM apm_aggregate_touched;
  END IF;

  INSERT INTO apm_aggregation_watermarks AS w (bucket_seconds, last_ingested_at, updated_at)
  VALUES (width, new_mark, clock_timestamp())
  ON CONFLICT (bucket_seconds) DO UPDATE
     SET last_ingested_at = greatest(w.last_ingested_at, EXCLUDED.last_ingested_at),
         updated_at = EXCLUDED.updated_at;
  RETURN written + aggregate_metric_histograms(bucket);
END $$;
