-- Sequences of this database against the limit of what they feed:
-- max_value = the smaller of the sequence's own maximum and the maximum of
-- the column that owns it (smallint 32767, integer 2147483647, bigint
-- 9223372036854775807; serial and identity columns), used_ratio =
-- last_value / max_value (0 before the first nextval). PgHero
-- sequence_danger compares the same ratio with 0.9.
CREATE FUNCTION monitoring_sequence_usage()
RETURNS TABLE (
  schema_name text, sequence_name text, table_name text, column_name text, column_type text,
  last_value bigint, max_value bigint, used_ratio double precision
)
LANGUAGE sql STABLE AS $$
  WITH s AS (
    SELECT ps.schemaname, ps.sequencename, t.relname AS table_name, a.attname AS column_name,
           format_type(a.atttypid, a.atttypmod) AS column_type,
           coalesce(ps.last_value, 0) AS last_value,
           least(ps.max_value, CASE a.atttypid WHEN 'int2'::regtype THEN 32767
                                               WHEN 'int4'::regtype THEN 2147483647
                                               ELSE 9223372036854775807 END) AS max_value
    FROM pg_sequences ps
    JOIN pg_class sc ON sc.relname = ps.sequencename
    JOIN pg_namespace sn ON sn.oid = sc.relnamespace AND sn.nspname = ps.schemaname
    LEFT JOIN pg_depend d ON d.objid = sc.oid AND d.classid = 'pg_class'::regclass
                         AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
    LEFT JOIN pg_class t ON t.oid = d.refobjid
    LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE app_is_platform() AND ps.schemaname NOT LIKE 'pg\_temp\_%'
  )
  SELECT s.schemaname::text, s.sequencename::text, s.table_name::text, s.column_name::text, s.column_type,
         s.last_value, s.max_value, s.last_value / s.max_value::double precision
  FROM s
  ORDER BY s.last_value / s.max_value::double precision DESC, s.sequencename
$$;
