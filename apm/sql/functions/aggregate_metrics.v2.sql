-- aggregate_metrics(bucket) -> integer, faster: same contract as v1
-- (incremental, idempotent, serialised per width, staff/service only).
--
-- v1 found the touched buckets and then fetched each bucket's rows with
-- one index probe per bucket (a nested loop): right for a few buckets, but
-- 6-7x the time of a plain GROUP BY when many are touched (first run, a
-- backlog, bench/aggregate.py). Now:
--   1. the new watermark is max(ingested_at) (an index-only read);
--   2. one scan of the rows ingested in (watermark - 2-minute overlap, new
--      watermark] gives the recorded_at span [lo, hi) they fall in, widened
--      to whole buckets;
--   3. "span": when no older row lies in [lo, hi) (a first run, a backlog),
--      every bucket of the span is touched: one GROUP BY over the span;
--   otherwise the touched (organization, service, metric, bucket) keys go to
--      a session-local temporary table (emptied at commit), and
--   4. "probe": up to 20,000 touched buckets (an index probe each, ~1 s at most) or a recorded_at span of more than two
--      days (late data): each bucket's rows are fetched by index, as before;
--      "hash": otherwise one pass over the rows of the touched span [lo, hi)
--      (partition pruning) hash-joined to the touched keys, with nested
--      loops disabled for that statement only (the planner has no
--      statistics of the temporary table and would otherwise probe by index).
-- "Unchanged" statistics (not rewritten, not counted): equal count, min,
-- max and percentiles, and sum and avg equal to 1e-12 relative (a float sum
-- depends on the order rows are added in, which differs between plans).
-- A bucket lies wholly inside or outside [lo, hi), so no bucket is ever
-- computed from part of its rows. Rows committed after step 1 are left to
-- the next run (the overlap also catches late commits with older
-- ingested_at).
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
    RETURN 0;
  END IF;

  -- The recorded_at span of the new rows, widened to whole buckets.
  -- "+ interval '0'": no min/max through the recorded_at index, which would
  -- walk the table from its oldest row looking for a new one; the
  -- ingested_at index finds the new rows directly.
  SELECT date_bin(bucket, min(m.recorded_at + interval '0'), origin),
         date_bin(bucket, max(m.recorded_at + interval '0'), origin) + bucket
    INTO lo, hi
  FROM apm_metrics m WHERE m.ingested_at > mark - overlap AND m.ingested_at <= new_mark;
  IF lo IS NULL THEN
    RETURN 0;
  END IF;

  -- "+ interval '0'" keeps the planner off the ingested_at index here: the
  -- rows at issue are found through the recorded_at range; scanning
  -- ingested_at from the oldest row would read the whole table first.
  IF NOT EXISTS (SELECT 1 FROM apm_metrics m
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
  RETURN written;
END $$;
