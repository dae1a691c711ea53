-- An enum type of the platform's monitoring specification (WS-259, issue 18). Django choices in
-- wedsync_ops/choices.py agree; tests/test_sql_contract.py checks.
-- incident_severity_type: incidents.incident_severity (from the incident's priority and wedding impact).
CREATE TYPE incident_severity_type AS ENUM ('low', 'medium', 'high', 'critical', 'wedding_day_emergency');
