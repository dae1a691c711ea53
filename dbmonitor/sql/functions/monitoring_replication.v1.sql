-- Replication: on a primary, one row per standby (pg_stat_replication) with
-- its write/flush/replay lag in seconds and replay lag in bytes of WAL; on a
-- standby, one row 'this server (standby)' with replay_lag_s = now - the
-- last replayed transaction's commit time. No rows without replicas.
CREATE FUNCTION monitoring_replication()
RETURNS TABLE (
  role text, application_name text, client_addr text, state text, write_lag_s double precision,
  flush_lag_s double precision, replay_lag_s double precision, replay_lag_bytes numeric
)
LANGUAGE sql STABLE AS $$
  SELECT 'primary', r.application_name, host(r.client_addr), r.state,
         extract(epoch FROM r.write_lag)::double precision, extract(epoch FROM r.flush_lag)::double precision,
         extract(epoch FROM r.replay_lag)::double precision, pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)
  FROM pg_stat_replication r
  WHERE app_is_platform() AND NOT pg_is_in_recovery()
  UNION ALL
  SELECT 'standby', 'this server (standby)', NULL, 'streaming', NULL, NULL,
         extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::double precision,
         pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
  WHERE app_is_platform() AND pg_is_in_recovery()
$$;
