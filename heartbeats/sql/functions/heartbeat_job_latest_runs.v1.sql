-- heartbeat_job_latest_runs(jobs): the newest job_runs row of each named beat
-- job (NULLs for a job that never ran), one index probe per job
-- (job_runs_job_started). Staff-only like job_runs.
CREATE FUNCTION heartbeat_job_latest_runs(jobs text[])
RETURNS TABLE (
    job text, started_at timestamptz, finished_at timestamptz, outcome text, duration_ms double precision,
    rows_handled bigint, error text
)
LANGUAGE sql STABLE AS $$
  SELECT j.job, r.started_at, r.finished_at, r.outcome::text, r.duration_ms, r.rows_handled, r.error
    FROM unnest(jobs) AS j(job)
    LEFT JOIN LATERAL (
      SELECT * FROM job_runs x WHERE x.job = j.job ORDER BY x.started_at DESC LIMIT 1
    ) r ON true
$$;
