-- The organization's local date at an instant (organizations.timezone).
CREATE FUNCTION org_local_date(org uuid, at timestamptz) RETURNS date LANGUAGE sql STABLE AS $$
  SELECT (at AT TIME ZONE o.timezone)::date FROM organizations o WHERE o.id = org
$$;
