-- The histogram side of aggregate_metrics keeps its own watermark.
ALTER TABLE apm_aggregation_watermarks ADD COLUMN last_histogram_ingested_at timestamptz;
