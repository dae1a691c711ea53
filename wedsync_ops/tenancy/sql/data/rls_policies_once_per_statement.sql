-- Every policy made by apply_tenant_rls/apply_staff_only_rls v1 gets v2's expressions (context functions in
-- scalar subqueries, evaluated once per statement): the tables' own policy files call those functions, so
-- their newest files now render as v2 (tests/test_sql_files.py). Policies with an expression of their own
-- (organizations, api_keys, user_profiles, ...) are left as their files say. apm_metrics' daily partitions
-- are included (their policy only matters to the owner: the application role has no rights on them).
DO $$
DECLARE
  p record;
BEGIN
  FOR p IN
    SELECT format('%I.%I', n.nspname, c.relname) AS tbl, pol.polname,
           pg_get_expr(pol.polqual, pol.polrelid) AS qual, pg_get_expr(pol.polwithcheck, pol.polrelid) AS chk
    FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND pol.polname IN ('tenant_rows', 'staff_rows')
  LOOP
    IF p.polname = 'tenant_rows'
       AND p.qual = '(app_is_platform() OR (organization_id = app_vendor_org_id()))'
       AND p.chk = '(app_is_platform() OR (organization_id = app_vendor_org_id()))' THEN
      EXECUTE format('ALTER POLICY tenant_rows ON %s'
                     ' USING ((SELECT app_is_platform()) OR organization_id = (SELECT app_vendor_org_id()))'
                     ' WITH CHECK ((SELECT app_is_platform()) OR organization_id = (SELECT app_vendor_org_id()))', p.tbl);
    ELSIF p.polname = 'staff_rows' AND p.qual = 'app_is_platform()' AND p.chk = 'app_is_platform()' THEN
      EXECUTE format('ALTER POLICY staff_rows ON %s USING ((SELECT app_is_platform())) WITH CHECK ((SELECT app_is_platform()))',
                     p.tbl);
    END IF;
  END LOOP;
END $$;
