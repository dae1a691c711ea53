-- correlate_error_patterns(at timestamptz, window interval, lookback interval) -> integer (pairs written)
-- Issue 18 §3; the rules and their sources are documented in apm/correlation.py.
--
-- Set-based over the organizations with an error pattern seen in (at - lookback, at]:
--   shared_trace  reports of two patterns of different services carry the same trace or request id
--                 (tag trace_id, trace.id, traceId, request_id or x-request-id) among the reports
--                 stored in (at - lookback, at]; score 0.6 + 0.4 × shared ids / the fewer traced
--                 reports of the two (≥ 0.6: the same request failed in both); origin: the pattern
--                 whose report came first in the shared traces; gap: the mean delay of the other.
--   time_window   two patterns of different services started (first seen, or regressed) within
--                 `window` of each other, both in (at - lookback, at]; score 0.5 × (1 − gap / window)
--                 (≤ 0.5: coincidence in time is weaker evidence); origin: the earlier start.
-- A pair keeps its strongest evidence: a new score replaces the stored one only when higher (or as
-- high with more shared ids), so a rerun over the same reports writes nothing. Returns the pairs
-- written or strengthened. Staff or service context only.
CREATE FUNCTION correlate_error_patterns(at timestamptz, "window" interval DEFAULT interval '2 minutes',
                                         lookback interval DEFAULT interval '10 minutes')
RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = public AS $$
DECLARE
  written integer;
  window_s constant float8 := extract(epoch FROM "window");
BEGIN
  IF NOT app_is_platform() THEN
    RAISE EXCEPTION 'correlate_error_patterns needs a staff or service context'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  WITH active AS (
    SELECT p.id, p.organization_id, p.service, greatest(p.first_seen, coalesce(p.regressed_at, p.first_seen)) AS started
    FROM error_patterns p
    WHERE p.last_seen > at - lookback AND p.last_seen <= at + "window" AND p.status <> 'ignored'
  ), orgs AS (
    SELECT DISTINCT organization_id FROM active
  ), traced AS (
    SELECT r.organization_id, r.pattern_id, r.service, r.occurred_at,
           coalesce(r.tags->>'trace_id', r.tags->>'trace.id', r.tags->>'traceId', r.tags->>'request_id',
                    r.tags->>'x-request-id') AS trace
    FROM orgs o
    JOIN error_reports r ON r.organization_id = o.organization_id
     AND r.created_at > at - lookback AND r.created_at <= at
  ), traced_only AS (
    SELECT * FROM traced WHERE trace IS NOT NULL AND trace <> ''
  ), firsts AS (
    SELECT organization_id, pattern_id, service, trace, min(occurred_at) AS at_first
    FROM traced_only GROUP BY organization_id, pattern_id, service, trace
  ), per_pattern AS (
    SELECT pattern_id, count(DISTINCT trace) AS traces FROM traced_only GROUP BY pattern_id
  ), trace_pairs AS (
    SELECT a.organization_id, least(a.pattern_id, b.pattern_id) AS p1, greatest(a.pattern_id, b.pattern_id) AS p2,
           count(DISTINCT a.trace) AS shared,
           -- the pattern first in more shared traces (ties: the earlier report overall)
           CASE WHEN sum(CASE WHEN a.at_first <= b.at_first THEN 1 ELSE -1 END) >= 0 THEN a.pattern_id
                ELSE b.pattern_id END AS origin_a_side,
           avg(abs(extract(epoch FROM b.at_first - a.at_first))) AS gap
    FROM firsts a
    JOIN firsts b ON b.organization_id = a.organization_id AND b.trace = a.trace AND b.service <> a.service
     AND a.pattern_id < b.pattern_id
    GROUP BY a.organization_id, a.pattern_id, b.pattern_id
  ), trace_scored AS (
    SELECT t.organization_id, t.p1, t.p2, t.origin_a_side AS origin, 'shared_trace'::text AS rule,
           0.6 + 0.4 * least(1.0, t.shared::float8 / NULLIF(least(x.traces, y.traces), 0)) AS score,
           t.gap, t.shared
    FROM trace_pairs t
    JOIN per_pattern x ON x.pattern_id = t.p1
    JOIN per_pattern y ON y.pattern_id = t.p2
  ), time_scored AS (
    SELECT a.organization_id, a.id AS p1, b.id AS p2,
           CASE WHEN a.started <= b.started THEN a.id ELSE b.id END AS origin, 'time_window'::text AS rule,
           0.5 * (1 - abs(extract(epoch FROM b.started - a.started)) / NULLIF(window_s, 0)) AS score,
           abs(extract(epoch FROM b.started - a.started)) AS gap, 0::bigint AS shared
    FROM active a
    JOIN active b ON b.organization_id = a.organization_id AND a.id < b.id AND a.service <> b.service
     AND abs(extract(epoch FROM b.started - a.started)) <= window_s
    WHERE a.started > at - lookback AND b.started > at - lookback
  ), best AS (
    SELECT DISTINCT ON (p1, p2) * FROM (SELECT * FROM trace_scored UNION ALL SELECT * FROM time_scored) u
    ORDER BY p1, p2, score DESC
  )
  INSERT INTO error_correlations AS c (organization_id, pattern_id, related_pattern_id, origin_pattern_id, rule, score,
                                       gap_seconds, shared_traces, detected_at, updated_at)
  SELECT organization_id, p1, p2, origin, rule, round(score::numeric, 3)::float8, gap, shared, at, at FROM best
  ON CONFLICT (pattern_id, related_pattern_id) DO UPDATE SET
    origin_pattern_id = EXCLUDED.origin_pattern_id, rule = EXCLUDED.rule, score = EXCLUDED.score,
    gap_seconds = EXCLUDED.gap_seconds, shared_traces = EXCLUDED.shared_traces, updated_at = EXCLUDED.updated_at
  WHERE EXCLUDED.score > c.score OR (EXCLUDED.score = c.score AND EXCLUDED.shared_traces > c.shared_traces);
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END $$;
