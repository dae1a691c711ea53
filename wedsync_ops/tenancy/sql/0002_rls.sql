-- Row-level security of the tenancy tables.
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON organizations
  USING (app_is_platform() OR id = app_vendor_org_id())
  WITH CHECK (app_is_platform());

SELECT apply_tenant_rls('user_profiles');
-- A logged-in user reads their own membership before the role is known.
CREATE POLICY own_profile ON user_profiles FOR SELECT USING (user_id = app_user_id());

SELECT apply_tenant_rls('weddings');

SELECT apply_tenant_rls('api_keys');
-- Authentication: the caller presenting a key's hash may read that one row.
CREATE POLICY token_lookup ON api_keys FOR SELECT USING (key_hash = app_token_hash());

-- is_wedding_day(org, day): the organization has a wedding (not cancelled)
-- on that local date. Under RLS the caller must be able to see the weddings.
CREATE FUNCTION is_wedding_day(org uuid, day date) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM weddings w
                 WHERE w.organization_id = org AND w.wedding_date = day AND w.status <> 'cancelled')
$$;

-- The organization's local date at an instant (organizations.timezone).
CREATE FUNCTION org_local_date(org uuid, at timestamptz) RETURNS date LANGUAGE sql STABLE AS $$
  SELECT (at AT TIME ZONE o.timezone)::date FROM organizations o WHERE o.id = org
$$;

-- Wedding-day protocol (DESIGN.md): on when the organization's local date is
-- a wedding day or a Saturday. Returns NULL reason when off.
CREATE FUNCTION wedding_day_protocol(org uuid, at timestamptz, OUT active boolean, OUT reason text)
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN d IS NULL THEN false ELSE is_wedding_day(org, d) OR extract(isodow FROM d) = 6 END,
         CASE WHEN d IS NULL THEN NULL
              WHEN is_wedding_day(org, d) THEN 'wedding day: a wedding on ' || d::text || ' (local)'
              WHEN extract(isodow FROM d) = 6 THEN 'wedding day: local Saturday ' || d::text
         END
  FROM (SELECT org_local_date(org, at) AS d) s
$$;
