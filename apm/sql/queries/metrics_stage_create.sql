-- The session-local staging table of metric ingest (COPY FROM refuses tables
-- under row-level security): no RLS, no indexes, emptied at commit. Written
-- with a binary COPY; tags arrive as JSON text and are cast on the way out;
-- n numbers the rows in the batch's order, which the move keeps (ids follow it).
CREATE TEMP TABLE IF NOT EXISTS apm_metrics_stage_v3 (
    n bigint GENERATED ALWAYS AS IDENTITY,
    organization_id uuid NOT NULL, service text NOT NULL, metric_name text NOT NULL,
    value double precision NOT NULL, unit text NOT NULL, tags text NOT NULL,
    recorded_at timestamptz NOT NULL
) ON COMMIT DELETE ROWS
