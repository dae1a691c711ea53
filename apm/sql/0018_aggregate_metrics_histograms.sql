-- aggregate_metrics(bucket) -> integer, v3: same contract as 0003/0006
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

-- apm_histogram_quantiles(lowers, uppers, counts, qs, lo, hi) -> float8[]:
-- the quantiles qs (0..1) of merged histogram buckets (bucket i holds
-- counts[i] observations in (lowers[i], uppers[i]], sorted by upper bound;
-- ±Infinity at open ends), by the method above; lo/hi: the observations'
-- known min and max, or NULL. NULL when the buckets hold no observation.
CREATE FUNCTION apm_histogram_quantiles(lowers float8[], uppers float8[], counts float8[], qs float8[],
                                        lo float8 DEFAULT NULL, hi float8 DEFAULT NULL) RETURNS float8[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  n      integer := coalesce(cardinality(counts), 0);
  total  float8 := 0;
  result float8[] := '{}';
  q      float8;
  rank   float8;
  cum    float8;
  lower  float8;
  upper  float8;
  v      float8;
BEGIN
  FOR i IN 1..n LOOP
    total := total + counts[i];
  END LOOP;
  IF total <= 0 THEN
    RETURN NULL;
  END IF;
  FOREACH q IN ARRAY qs LOOP
    rank := q * total;
    cum := 0;
    v := NULL;
    FOR i IN 1..n LOOP
      IF counts[i] > 0 AND cum + counts[i] >= rank THEN
        lower := lowers[i];
        upper := uppers[i];
        IF lower = '-Infinity' THEN
          lower := coalesce(lo, CASE WHEN upper > 0 AND upper <> 'Infinity' THEN 0
                                     WHEN upper = 'Infinity' THEN 0 ELSE upper END);
        END IF;
        IF upper = 'Infinity' THEN
          upper := coalesce(hi, lower);
        END IF;
        v := lower + (upper - lower) * greatest(rank - cum, 0) / counts[i];
        EXIT;
      END IF;
      cum := cum + counts[i];
    END LOOP;
    IF v IS NULL THEN
      v := coalesce(hi, lower);
    END IF;
    IF lo IS NOT NULL THEN
      v := greatest(v, lo);
    END IF;
    IF hi IS NOT NULL THEN
      v := least(v, hi);
    END IF;
    result := result || v;
  END LOOP;
  RETURN result;
END $$;

-- aggregate_metric_histograms(bucket) -> integer: the histogram side of
-- aggregate_metrics (see above), incremental by its own watermark
-- (apm_aggregation_watermarks.last_histogram_ingested_at, same 2-minute
-- overlap): every bucket that received a histogram point since is
-- recomputed from all of its points; unchanged statistics are not
-- rewritten. Staff or service context only; the same advisory lock.
CREATE FUNCTION aggregate_metric_histograms(bucket interval) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = public AS $$
DECLARE
  overlap  constant interval := interval '2 minutes';
  origin   constant timestamptz := timestamptz '1970-01-01 00:00:00+00';
  width    integer := extract(epoch FROM bucket)::integer;
  mark     timestamptz;
  new_mark timestamptz;
  written  integer;
BEGIN
  IF NOT app_is_platform() THEN
    RAISE EXCEPTION 'aggregate_metric_histograms needs a staff or service context (app.role is %)',
      quote_literal(app_role()) USING ERRCODE = 'insufficient_privilege';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('aggregate_metrics'), width);
  SELECT w.last_histogram_ingested_at INTO mark FROM apm_aggregation_watermarks w WHERE w.bucket_seconds = width;
  mark := coalesce(mark, '-infinity'::timestamptz);
  SELECT max(h.ingested_at) INTO new_mark FROM apm_metric_histograms h;
  IF new_mark IS NULL OR new_mark <= mark - overlap THEN
    RETURN 0;
  END IF;
  WITH touched AS (
    SELECT DISTINCT h.organization_id, h.service, h.metric_name, date_bin(bucket, h.recorded_at, origin) AS bucket_start
    FROM apm_metric_histograms h
    WHERE h.ingested_at > mark - overlap AND h.ingested_at <= new_mark
  ), pts AS (
    SELECT t.organization_id, t.service, t.metric_name, t.bucket_start, h.count, h.sum, h.min, h.max, h.bounds, h.counts
    FROM touched t
    JOIN apm_metric_histograms h
      ON h.organization_id = t.organization_id AND h.service = t.service AND h.metric_name = t.metric_name
     AND h.recorded_at >= t.bucket_start AND h.recorded_at < t.bucket_start + bucket
    WHERE h.count > 0
  ), totals AS (
    SELECT p.organization_id, p.service, p.metric_name, p.bucket_start, sum(p.count) AS n, sum(p.sum) AS total,
           min(p.min) AS lo, max(p.max) AS hi, bool_and(p.min IS NOT NULL) AS all_min, bool_and(p.max IS NOT NULL) AS all_max
    FROM pts p GROUP BY 1, 2, 3, 4
  ), intervals AS (
    SELECT p.organization_id, p.service, p.metric_name, p.bucket_start,
           p.bounds[i] AS lower, p.bounds[i + 1] AS upper, sum(p.counts[i]) AS n
    FROM pts p CROSS JOIN LATERAL generate_subscripts(p.counts, 1) AS i
    GROUP BY 1, 2, 3, 4, 5, 6
  ), merged AS (
    SELECT organization_id, service, metric_name, bucket_start,
           array_agg(lower ORDER BY upper, lower) AS lowers, array_agg(upper ORDER BY upper, lower) AS uppers,
           array_agg(n::float8 ORDER BY upper, lower) AS ns
    FROM intervals WHERE n > 0 GROUP BY 1, 2, 3, 4
  ), stats AS (
    SELECT t.*, apm_histogram_quantiles(m.lowers, m.uppers, m.ns, ARRAY[0, 0.5, 0.95, 0.99, 1]::float8[],
                                        CASE WHEN t.all_min THEN t.lo END, CASE WHEN t.all_max THEN t.hi END) AS q
    FROM totals t JOIN merged m USING (organization_id, service, metric_name, bucket_start)
  )
  INSERT INTO apm_metric_aggregations AS a
         (organization_id, service, metric_name, bucket_seconds, bucket_start,
          count, sum, min, max, avg, p50, p95, p99, updated_at)
  SELECT s.organization_id, s.service, s.metric_name, width, s.bucket_start, s.n, s.total,
         CASE WHEN s.all_min THEN s.lo ELSE least(s.lo, s.q[1]) END,
         CASE WHEN s.all_max THEN s.hi ELSE greatest(s.hi, s.q[5]) END,
         s.total / s.n, s.q[2], s.q[3], s.q[4], clock_timestamp()
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
  INSERT INTO apm_aggregation_watermarks AS w (bucket_seconds, last_ingested_at, last_histogram_ingested_at, updated_at)
  VALUES (width, '-infinity', new_mark, clock_timestamp())
  ON CONFLICT (bucket_seconds) DO UPDATE
     SET last_histogram_ingested_at = greatest(w.last_histogram_ingested_at, EXCLUDED.last_histogram_ingested_at),
         updated_at = EXCLUDED.updated_at;
  RETURN written;
END $$;

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

-- cleanup_monitoring_data(at) -> integer: platform retention at `at`
-- (default now()); returns the rows deleted. Deletes raw metric points and histogram points (v2, 0018),
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

