-- Enum types of the SQL contract (DESIGN.md). Django choices in
-- wedsync_ops/choices.py agree; tests/test_sql_contract.py checks.
CREATE TYPE alert_severity AS ENUM ('info', 'warning', 'critical', 'emergency');
CREATE TYPE alert_priority AS ENUM ('low', 'medium', 'high', 'critical');
CREATE TYPE incident_status AS ENUM ('open', 'acknowledged', 'investigating', 'resolved', 'closed');
CREATE TYPE escalation_level AS ENUM ('none', 'team_lead', 'manager', 'director', 'executive');
CREATE TYPE apm_provider AS ENUM ('datadog', 'newrelic', 'prometheus', 'grafana', 'custom', 'pingdom', 'uptime_robot');
CREATE TYPE service_status AS ENUM ('healthy', 'warning', 'critical', 'unknown', 'maintenance');
CREATE TYPE notification_channel AS ENUM ('email', 'sms', 'slack', 'webhook', 'pagerduty');
CREATE TYPE wedding_impact_level AS ENUM ('none', 'low', 'medium', 'high', 'wedding_day_critical');

-- The tenant context, as set per transaction with set_config(…, true).
-- After a transaction ends a setting reads '' (not NULL), hence NULLIF.
CREATE FUNCTION app_role() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT coalesce(current_setting('app.role', true), '') $$;
CREATE FUNCTION app_org_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('app.org_id', true), '')::uuid $$;
CREATE FUNCTION app_user_id() RETURNS integer LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::integer $$;
CREATE FUNCTION app_token_hash() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('app.token_hash', true), '') $$;
-- Staff and background services see every organization's rows.
CREATE FUNCTION app_is_platform() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT app_role() IN ('staff', 'service') $$;
-- The organization a vendor context may see, or NULL (no rows) for any other context.
CREATE FUNCTION app_vendor_org_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN app_role() = 'vendor' THEN app_org_id() END $$;

-- Migration helpers (run by the owner role). A tenant table gets RLS enabled
-- and forced, and one policy: platform contexts see all rows, a vendor
-- context sees its organization's rows; rows with a NULL organization_id are
-- platform-wide and visible to staff and services only.
CREATE FUNCTION apply_tenant_rls(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format(
    'CREATE POLICY tenant_rows ON %s USING (app_is_platform() OR organization_id = app_vendor_org_id())'
    ' WITH CHECK (app_is_platform() OR organization_id = app_vendor_org_id())', tbl);
END $$;

-- Staff-only tables (monitoring_events, database snapshots): staff and service alone.
CREATE FUNCTION apply_staff_only_rls(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format('CREATE POLICY staff_rows ON %s USING (app_is_platform()) WITH CHECK (app_is_platform())', tbl);
END $$;
