-- Incremental aggregation of apm_metrics into apm_metric_aggregations.
--
-- apm_aggregation_watermarks: per bucket width, the newest ingested_at that a
-- finished run of aggregate_metrics has seen. Staff/service only.
CREATE TABLE apm_aggregation_watermarks (
    bucket_seconds   integer PRIMARY KEY CHECK (bucket_seconds > 0),
    last_ingested_at timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
