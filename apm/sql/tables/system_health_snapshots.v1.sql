-- SQL objects of the SQL contract (docs/design/sql-contract.md) owned by apm: system_health_snapshots
-- with capture_system_health_snapshot(), cleanup_monitoring_data(), and the
-- views system_health_overview, error_trending_analysis,
-- performance_percentile_analysis, saturday_monitoring. The views run with
-- the caller's rights (security_invoker), so RLS applies to them as to the
-- tables: a vendor sees its organization's rows, no context sees nothing.

CREATE TABLE system_health_snapshots (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    captured_at              timestamptz NOT NULL,
    organizations            integer NOT NULL,
    metric_points_last_hour  bigint NOT NULL,   -- points in 1-minute aggregations of the last hour
    error_reports_last_hour  bigint NOT NULL,
    unresolved_error_patterns integer NOT NULL,
    health_checks_by_status  jsonb NOT NULL,    -- {"healthy": n, "warning": n, ...}
    open_incidents           integer NOT NULL,
    open_p0_incidents        integer NOT NULL,
    firing_alerts            integer NOT NULL,
    database_size_bytes      bigint NOT NULL,
    database_connections     integer NOT NULL
);
CREATE INDEX system_health_snapshots_captured_at ON system_health_snapshots (captured_at);
