-- Wedding context of metric points and error reports, and histogram points.
--
-- 1. wedding_context(org, day) -> jsonb: the seed contract's object
--    {"is_wedding_day": bool, "is_weekend": bool, "wedding_id": uuid text or null}
--    for an organization's LOCAL date `day` (organizations.timezone):
--    is_wedding_day: a wedding of the organization (not cancelled) that day;
--    is_weekend: the day is a Saturday or a Sunday (ISO day of week 6 or 7);
--    wedding_id: that day's wedding (the earliest ceremony, then the lowest id
--    when there are several), null when none. Runs with the caller's rights:
--    under RLS the caller must see the organization's weddings (a vendor
--    context sees its own; ingest runs in the API key's vendor context).
CREATE FUNCTION wedding_context(org uuid, day date) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = public AS $$
  SELECT jsonb_build_object('is_wedding_day', w.id IS NOT NULL,
                            'is_weekend', extract(isodow FROM day) >= 6,
                            'wedding_id', w.id)
  FROM (SELECT 1) one
  LEFT JOIN LATERAL (SELECT x.id FROM weddings x
                     WHERE x.organization_id = org AND x.wedding_date = day AND x.status <> 'cancelled'
                     ORDER BY x.ceremony_time NULLS LAST, x.id LIMIT 1) w ON true
$$;

-- 2. The columns. Nullable: NULL only for rows written before this migration
--    and not backfilled, or written around ingest (a superuser's raw COPY).
--    Ingest (apm.services.metrics_copy, errors_ingest) always sets them,
--    set-based: one wedding_context() call per distinct (organization,
--    local date) of a batch, joined to its rows.
ALTER TABLE apm_metrics ADD COLUMN wedding_context jsonb;
ALTER TABLE error_reports ADD COLUMN wedding_context jsonb;

-- Backfill what exists: one wedding_context() call per distinct organization
-- and local date, in the service context (the tables FORCE row-level
-- security, which binds their owner too).
SELECT set_config('app.role', 'service', true);
WITH days AS (
  SELECT DISTINCT m.organization_id, (m.recorded_at AT TIME ZONE o.timezone)::date AS day
  FROM apm_metrics m JOIN organizations o ON o.id = m.organization_id
), ctx AS (
  SELECT d.organization_id, d.day, wedding_context(d.organization_id, d.day) AS c FROM days d
)
UPDATE apm_metrics m SET wedding_context = ctx.c
FROM ctx, organizations o
WHERE o.id = m.organization_id AND ctx.organization_id = m.organization_id
  AND ctx.day = (m.recorded_at AT TIME ZONE o.timezone)::date;
WITH days AS (
  SELECT DISTINCT r.organization_id, (r.occurred_at AT TIME ZONE o.timezone)::date AS day
  FROM error_reports r JOIN organizations o ON o.id = r.organization_id
), ctx AS (
  SELECT d.organization_id, d.day, wedding_context(d.organization_id, d.day) AS c FROM days d
)
UPDATE error_reports r SET wedding_context = ctx.c
FROM ctx, organizations o
WHERE o.id = r.organization_id AND ctx.organization_id = r.organization_id
  AND ctx.day = (r.occurred_at AT TIME ZONE o.timezone)::date;
SELECT set_config('app.role', '', true);

-- 3. The seed's query "an organization's wedding-day points" reads this
--    partial index (only wedding-day rows are in it, so ingest of ordinary
--    days pays nothing for it):
--      SELECT … FROM apm_metrics WHERE organization_id = $1
--        AND (wedding_context->>'is_wedding_day')::boolean [= true] [AND recorded_at …]
CREATE INDEX idx_apm_metrics_wedding_day ON apm_metrics (organization_id, recorded_at)
  WHERE (wedding_context->>'is_wedding_day')::boolean;
CREATE INDEX idx_error_reports_org_wedding_day ON error_reports (organization_id, occurred_at)
  WHERE (wedding_context->>'is_wedding_day')::boolean;

-- 4. Histogram points (OTLP Histogram and ExponentialHistogram), one row per
--    data point, in DELTA form: count, sum and counts are the observations of
--    the point's own interval. A cumulative point is stored with the
--    difference to the previous point of its series (same organization,
--    service, metric, tags and start_at); its values as sent are kept in
--    cumulative_* as the next point's baseline (apm.histograms).
--    Buckets: counts[i] observations in (bounds[i], bounds[i+1]];
--    cardinality(bounds) = cardinality(counts) + 1, ascending, with
--    -Infinity / +Infinity at the open ends of explicit-bucket histograms.
CREATE TABLE apm_metric_histograms (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id   uuid NOT NULL,
    service           varchar(100) NOT NULL,
    metric_name       varchar(200) NOT NULL,
    unit              varchar(20) NOT NULL DEFAULT '',
    tags              jsonb NOT NULL DEFAULT '{}'::jsonb,
    recorded_at       timestamptz NOT NULL,
    start_at          timestamptz,
    temporality       text NOT NULL CHECK (temporality IN ('delta', 'cumulative')),
    count             bigint NOT NULL CHECK (count >= 0),
    sum               double precision NOT NULL,
    min               double precision,
    max               double precision,
    bounds            double precision[] NOT NULL,
    counts            bigint[] NOT NULL,
    cumulative_count  bigint,
    cumulative_sum    double precision,
    cumulative_counts bigint[],
    wedding_context   jsonb,
    ingested_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT apm_metric_histograms_buckets CHECK (cardinality(bounds) = cardinality(counts) + 1)
);
CREATE INDEX idx_apm_histograms_series ON apm_metric_histograms (organization_id, service, metric_name, recorded_at);
CREATE INDEX idx_apm_histograms_ingested_at ON apm_metric_histograms (ingested_at);
SELECT apply_tenant_rls('apm_metric_histograms');

-- The histogram side of aggregate_metrics keeps its own watermark.
ALTER TABLE apm_aggregation_watermarks ADD COLUMN last_histogram_ingested_at timestamptz;
