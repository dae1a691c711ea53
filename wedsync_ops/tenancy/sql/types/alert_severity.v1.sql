-- Enum types of the SQL contract (docs/design/sql-contract.md). Django choices in
-- wedsync_ops/choices.py agree; tests/test_sql_contract.py checks.
CREATE TYPE alert_severity AS ENUM ('info', 'warning', 'critical', 'emergency');
