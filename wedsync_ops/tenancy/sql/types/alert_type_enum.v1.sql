-- An enum type of the platform's monitoring specification (WS-259, issue 18). Django choices in
-- wedsync_ops/choices.py agree; tests/test_sql_contract.py checks.
-- alert_type_enum: alert_configurations.alert_type (the kind of rule).
CREATE TYPE alert_type_enum AS ENUM ('threshold', 'anomaly', 'composite', 'heartbeat', 'pattern_match');
