-- cleanup_old_monitoring_data() -> integer: delete monitoring_events that are
-- resolved and created more than 30 days ago, or unresolved and created more
-- than 7 days ago (ages from now(), the transaction's start). Returns the
-- number of rows deleted. Under RLS only a platform context deletes anything.
CREATE FUNCTION cleanup_old_monitoring_data() RETURNS integer
LANGUAGE sql VOLATILE AS $$
  WITH deleted AS (
    DELETE FROM monitoring_events e
    WHERE (e.resolved AND e.created_at < now() - interval '30 days')
       OR (NOT e.resolved AND e.created_at < now() - interval '7 days')
    RETURNING 1
  )
  SELECT count(*)::integer FROM deleted
$$;
