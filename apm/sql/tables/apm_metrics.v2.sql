-- 2. The columns. Nullable: NULL only for rows written before this migration
--    and not backfilled, or written around ingest (a superuser's raw COPY).
--    Ingest (apm.services.metrics_copy, errors_ingest) always sets them,
--    set-based: one wedding_context() call per distinct (organization,
--    local date) of a batch, joined to its rows.
ALTER TABLE apm_metrics ADD COLUMN wedding_context jsonb;

-- 3. The seed's query "an organization's wedding-day points" reads this
--    partial index (only wedding-day rows are in it, so ingest of ordinary
--    days pays nothing for it):
--      SELECT … FROM apm_metrics WHERE organization_id = $1
--        AND (wedding_context->>'is_wedding_day')::boolean [= true] [AND recorded_at …]
CREATE INDEX idx_apm_metrics_wedding_day ON apm_metrics (organization_id, recorded_at)
  WHERE (wedding_context->>'is_wedding_day')::boolean;
