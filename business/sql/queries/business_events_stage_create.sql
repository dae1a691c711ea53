-- The session-local staging table of business event ingest (COPY FROM refuses tables under row-level
-- security): no RLS, no indexes, emptied at commit. Written with a binary COPY; properties arrive as JSON
-- text and are cast on the way out; n numbers the rows in the batch's order, which the move keeps.
CREATE TEMP TABLE IF NOT EXISTS business_events_stage_v1 (
    n bigint GENERATED ALWAYS AS IDENTITY,
    organization_id uuid NOT NULL, event_type text NOT NULL, actor_id text NOT NULL, properties text NOT NULL,
    revenue_impact numeric, currency text NOT NULL, "timestamp" timestamptz NOT NULL
) ON COMMIT DELETE ROWS
