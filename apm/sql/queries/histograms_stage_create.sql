-- The session-local staging table of histogram ingest (no RLS, emptied at commit).
CREATE TEMP TABLE IF NOT EXISTS apm_histograms_stage (
    organization_id uuid NOT NULL, service text NOT NULL, metric_name text NOT NULL, unit text NOT NULL,
    tags jsonb NOT NULL, recorded_at timestamptz NOT NULL, start_at timestamptz, temporality text NOT NULL,
    count bigint NOT NULL, sum double precision NOT NULL, min double precision, max double precision,
    bounds double precision[] NOT NULL, counts bigint[] NOT NULL
) ON COMMIT DELETE ROWS
