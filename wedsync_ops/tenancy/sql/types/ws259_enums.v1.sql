-- The four enum types of the platform's monitoring specification (WS-259).
-- Django choices in wedsync_ops/choices.py agree (tests/test_sql_contract.py).
-- error_severity_type: error_reports.severity (mapped from the report's level).
CREATE TYPE error_severity_type AS ENUM ('low', 'medium', 'high', 'critical', 'wedding_emergency');
-- performance_metric_type: performance_metrics.metric_type (what a metric point measures).
CREATE TYPE performance_metric_type AS ENUM ('response_time', 'throughput', 'error_rate', 'cpu_usage',
                                             'memory_usage', 'database_query_time', 'core_web_vitals');
-- incident_severity_type: incidents.incident_severity (from the incident's priority and wedding impact).
CREATE TYPE incident_severity_type AS ENUM ('low', 'medium', 'high', 'critical', 'wedding_day_emergency');
-- alert_type_enum: alert_configurations.alert_type (the kind of rule).
CREATE TYPE alert_type_enum AS ENUM ('threshold', 'anomaly', 'composite', 'heartbeat', 'pattern_match');
