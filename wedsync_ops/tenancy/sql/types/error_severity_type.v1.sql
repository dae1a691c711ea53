-- An enum type of the platform's monitoring specification (WS-259, issue 18). Django choices in
-- wedsync_ops/choices.py agree; tests/test_sql_contract.py checks.
-- error_severity_type: error_reports.severity (mapped from the report's level).
CREATE TYPE error_severity_type AS ENUM ('low', 'medium', 'high', 'critical', 'wedding_emergency');
