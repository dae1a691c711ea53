-- monitoring_rls_status_in(schema): per table (ordinary or partitioned) of
-- the schema: rls_enabled, rls_forced, policy_count, has_organization_id,
-- and flagged = has an organization_id column but RLS is not both enabled
-- and forced, or it has no policy. Partitions are skipped: their parent's
-- policies cover every access the application role is granted (it has no
-- privileges on partitions). Platform contexts only.
CREATE FUNCTION monitoring_rls_status_in(in_schema name)
RETURNS TABLE (
  schema_name text, table_name text, rls_enabled boolean, rls_forced boolean, policy_count integer,
  has_organization_id boolean, flagged boolean
)
LANGUAGE sql STABLE AS $$
  SELECT t.nspname::text, t.relname::text, t.relrowsecurity, t.relforcerowsecurity, t.policies, t.has_org,
         t.has_org AND NOT (t.relrowsecurity AND t.relforcerowsecurity AND t.policies > 0)
  FROM (
    SELECT n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity,
           (SELECT count(*)::integer FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
           EXISTS (SELECT 1 FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attname = 'organization_id'
                     AND a.attnum > 0 AND NOT a.attisdropped) AS has_org
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE app_is_platform() AND n.nspname = in_schema AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  ) t
  ORDER BY t.relname
$$;
