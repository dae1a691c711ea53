-- idx_performance_metrics_timestamp's equivalent on apm_metrics' partitions (issue 18 §2): a BRIN
-- index on recorded_at (points arrive about in time order, so block ranges stay narrow; a BRIN
-- tuple per 128 pages costs ingest next to nothing, unlike a B-tree on every row).
CREATE INDEX idx_apm_metrics_recorded_brin ON apm_metrics USING brin (recorded_at);
