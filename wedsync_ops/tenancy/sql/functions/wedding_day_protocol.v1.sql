-- Wedding-day protocol (docs/design/tenancy-and-rls.md): on when the organization's local date is
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
