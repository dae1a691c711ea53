-- app.role when set; else 'staff' for a DBA session; else '' (no rows). The DBA test runs only when
-- app.role is empty, so requests and tasks (which always set it) pay one more current_setting() call.
CREATE OR REPLACE FUNCTION app_role() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN coalesce(current_setting('app.role', true), '') <> '' THEN current_setting('app.role', true)
              WHEN app_session_is_dba() THEN 'staff'
              ELSE '' END
$$;
