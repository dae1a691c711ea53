-- A DBA in psql -- a superuser, a member of the database's owner role (the role migrations run as), or a
-- member of pg_monitor -- reads the monitoring views and runs the monitoring functions without first
-- setting app.role: with no app.role set, such a session works as 'staff' (superusers and the owner could
-- bypass row-level security anyway). Both session_user and current_user must be DBAs, so neither
-- SET ROLE <application role> nor a SECURITY DEFINER function called by the application role widens
-- anything: the application role with no context still sees no rows. Never grant pg_monitor to the
-- application role (it has pg_read_all_stats); /health/ready fails if it is a DBA.
CREATE FUNCTION app_session_is_dba() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT (pg_has_role(session_user, 'pg_monitor', 'MEMBER') OR pg_has_role(session_user, d.datdba, 'MEMBER'))
     AND (pg_has_role(current_user, 'pg_monitor', 'MEMBER') OR pg_has_role(current_user, d.datdba, 'MEMBER'))
  FROM pg_database d WHERE d.datname = current_database()
$$;
