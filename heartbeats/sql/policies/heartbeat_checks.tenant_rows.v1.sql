-- Row-level security of the heartbeats tables: checks, pings and flips are
-- tenant tables (organization_id NULL: a platform check, staff and services
-- only); job_runs (the portal's own beat jobs) is staff-only.
SELECT apply_tenant_rls('heartbeat_checks');
