-- cleanup_db_snapshots(older_than) -> rows deleted: snapshots taken before
-- `older_than` with their statement deltas and table rows, and statement
-- baselines not seen since `older_than`. Platform contexts only (0 otherwise,
-- through RLS).
CREATE FUNCTION cleanup_db_snapshots(older_than timestamptz) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  n integer;
  total integer := 0;
BEGIN
  DELETE FROM db_statement_deltas d USING db_snapshots s WHERE d.snapshot_id = s.id AND s.taken_at < older_than;
  GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  DELETE FROM db_table_snapshots d USING db_snapshots s WHERE d.snapshot_id = s.id AND s.taken_at < older_than;
  GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  DELETE FROM db_snapshots s WHERE s.taken_at < older_than;
  GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  DELETE FROM db_statement_counters c WHERE c.last_seen_at < older_than;
  GET DIAGNOSTICS n = ROW_COUNT; total := total + n;
  RETURN total;
END $$;
