-- An enum type of the platform's monitoring specification (WS-259, issue 18). Django choices in
-- wedsync_ops/choices.py agree; tests/test_sql_contract.py checks.
-- performance_metric_type: performance_metrics.metric_type (what a metric point measures).
CREATE TYPE performance_metric_type AS ENUM ('response_time', 'throughput', 'error_rate', 'cpu_usage',
                                             'memory_usage', 'database_query_time', 'core_web_vitals');
