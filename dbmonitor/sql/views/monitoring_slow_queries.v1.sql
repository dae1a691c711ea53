-- Thresholds default to 100 ms mean and 1 call; an operator may change them
-- per database or role without a migration, e.g.
--   ALTER DATABASE wedsync SET dbmonitor.slow_query_ms = '250';
--   ALTER DATABASE wedsync SET dbmonitor.slow_query_min_calls = '5';
-- or call monitoring_slow_query_rows(min_mean_ms, min_calls) directly.
CREATE VIEW monitoring_slow_queries WITH (security_invoker = true) AS
SELECT *
FROM monitoring_slow_query_rows(
  coalesce(NULLIF(current_setting('dbmonitor.slow_query_ms', true), '')::double precision, 100),
  coalesce(NULLIF(current_setting('dbmonitor.slow_query_min_calls', true), '')::bigint, 1))
WHERE app_is_platform();
