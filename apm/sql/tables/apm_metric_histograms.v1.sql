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
