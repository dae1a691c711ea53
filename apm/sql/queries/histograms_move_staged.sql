-- Move the staged histogram points into apm_metric_histograms in delta form,
-- with their wedding context, set-based (apm.histograms.histograms_copy).
--
-- A cumulative point's baseline is the previous point of its series (same
-- organization, service, metric, tags and start_at): the one before it in
-- this batch (lag), else the newest stored one (cumulative_* columns).
--   - baseline found, same bounds, nothing decreased: delta = point - baseline;
--   - baseline found but a count decreased or the layout changed (a reset
--     the sender did not mark with a new start time): delta = the point;
--   - no baseline (the first point seen of the series): the whole point when
--     its series started (start_at) at most %(new_series_window)s before it
--     and not at its own timestamp, else nothing (count 0, the point is only
--     the next one's baseline). This is the OpenTelemetry Collector's
--     cumulativetodelta rule `initial_value: auto` ("send iff the start time
--     is set, after the component started and different from the timestamp"),
--     with "the component started" read as "within the window".
-- min and max of a cumulative point cover its whole series, not the
-- interval, so they are kept only where the whole point is the delta.
WITH staged AS (
    DELETE FROM apm_histograms_stage RETURNING *
), ordered AS (
    SELECT s.*,
           row_number() OVER w AS nth,
           lag(s.count) OVER w AS prev_count, lag(s.sum) OVER w AS prev_sum,
           lag(s.counts) OVER w AS prev_counts, lag(s.bounds) OVER w AS prev_bounds
    FROM staged s
    WINDOW w AS (PARTITION BY s.organization_id, s.service, s.metric_name, s.tags, s.start_at, s.temporality
                 ORDER BY s.recorded_at)
), based AS (
    SELECT o.*,
           CASE WHEN o.nth > 1 THEN o.prev_count ELSE p.cumulative_count END AS b_count,
           CASE WHEN o.nth > 1 THEN o.prev_sum ELSE p.cumulative_sum END AS b_sum,
           CASE WHEN o.nth > 1 THEN o.prev_counts ELSE p.cumulative_counts END AS b_counts,
           CASE WHEN o.nth > 1 THEN o.prev_bounds ELSE p.bounds END AS b_bounds
    FROM ordered o
    LEFT JOIN LATERAL (
        SELECT h.cumulative_count, h.cumulative_sum, h.cumulative_counts, h.bounds
        FROM apm_metric_histograms h
        WHERE o.temporality = 'cumulative' AND o.nth = 1
          AND h.organization_id = o.organization_id AND h.service = o.service AND h.metric_name = o.metric_name
          AND h.recorded_at < o.recorded_at AND h.temporality = 'cumulative'
          AND h.tags = o.tags AND h.start_at IS NOT DISTINCT FROM o.start_at
        ORDER BY h.recorded_at DESC
        LIMIT 1
    ) p ON true
), decided AS (
    SELECT b.*,
           CASE
             WHEN b.temporality = 'delta' THEN 'whole'
             WHEN b.b_count IS NOT NULL THEN
               CASE WHEN b.b_bounds = b.bounds AND b.count >= b.b_count
                         AND NOT EXISTS (SELECT 1 FROM unnest(b.counts, b.b_counts) u(c, prev) WHERE c < prev)
                    THEN 'difference' ELSE 'whole' END
             WHEN b.start_at IS NOT NULL AND b.start_at < b.recorded_at
                  AND b.recorded_at - b.start_at <= %(new_series_window)s THEN 'whole'
             ELSE 'baseline'
           END AS how
    FROM based b
), located AS (
    SELECT d.*, (d.recorded_at AT TIME ZONE o.timezone)::date AS local_day
    FROM decided d LEFT JOIN organizations o ON o.id = d.organization_id
), contexts AS (
    SELECT x.organization_id, x.local_day, wedding_context(x.organization_id, x.local_day) AS wedding_context
    FROM (SELECT DISTINCT organization_id, local_day FROM located) x
)
INSERT INTO apm_metric_histograms
       (organization_id, service, metric_name, unit, tags, recorded_at, start_at, temporality,
        count, sum, min, max, bounds, counts, cumulative_count, cumulative_sum, cumulative_counts, wedding_context)
SELECT l.organization_id, l.service, l.metric_name, l.unit, l.tags, l.recorded_at, l.start_at, l.temporality,
       CASE l.how WHEN 'whole' THEN l.count WHEN 'difference' THEN l.count - l.b_count ELSE 0 END,
       CASE l.how WHEN 'whole' THEN l.sum WHEN 'difference' THEN l.sum - l.b_sum ELSE 0 END,
       CASE l.how WHEN 'whole' THEN l.min END,
       CASE l.how WHEN 'whole' THEN l.max END,
       l.bounds,
       CASE l.how WHEN 'whole' THEN l.counts
                  WHEN 'difference' THEN ARRAY(SELECT c - prev FROM unnest(l.counts, l.b_counts) WITH ORDINALITY
                                               u(c, prev, i) ORDER BY i)
                  ELSE array_fill(0::bigint, ARRAY[cardinality(l.counts)]) END,
       CASE WHEN l.temporality = 'cumulative' THEN l.count END,
       CASE WHEN l.temporality = 'cumulative' THEN l.sum END,
       CASE WHEN l.temporality = 'cumulative' THEN l.counts END,
       c.wedding_context
FROM located l
LEFT JOIN contexts c ON c.organization_id = l.organization_id AND c.local_day = l.local_day
