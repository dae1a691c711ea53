-- Transaction-ID age of this database's tables (with their TOAST table),
-- oldest first: xid_age = greatest(age(relfrozenxid)) of the table and its
-- TOAST; freeze_max_age = autovacuum_freeze_max_age (the table's own
-- setting when it has one); to_forced_autovacuum = freeze_max_age - xid_age
-- (PgHero autovacuum_danger); to_shutdown = 2^31 - 1,000,000 - xid_age =
-- 2146483648 - xid_age (PgHero transaction_id_danger: PostgreSQL stops
-- assigning XIDs 1 million before wraparound, docs "Preventing Transaction
-- ID Wraparound Failures"). Includes system catalogs: they wrap too.
CREATE FUNCTION monitoring_xid_wraparound()
RETURNS TABLE (
  schema_name text, table_name text, xid_age bigint, freeze_max_age bigint, to_forced_autovacuum bigint,
  to_shutdown bigint, age_ratio double precision
)
LANGUAGE sql STABLE AS $$
  WITH t AS (
    SELECT n.nspname, c.relname,
           greatest(age(c.relfrozenxid), age(tc.relfrozenxid))::bigint AS xid_age,
           coalesce((SELECT substring(o FROM 'autovacuum_freeze_max_age=(\d+)')::bigint FROM unnest(c.reloptions) o
                     WHERE o LIKE 'autovacuum_freeze_max_age=%'),
                    current_setting('autovacuum_freeze_max_age')::bigint) AS freeze_max_age
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid
    WHERE app_is_platform() AND c.relkind IN ('r', 'm') AND n.nspname NOT LIKE 'pg\_temp\_%'
  )
  SELECT t.nspname::text, t.relname::text, t.xid_age, t.freeze_max_age, t.freeze_max_age - t.xid_age,
         2146483648 - t.xid_age, t.xid_age / t.freeze_max_age::double precision
  FROM t
  ORDER BY t.xid_age DESC, t.relname
$$;
