-- Wedding context of metric points and error reports, and histogram points.
--
-- 1. wedding_context(org, day) -> jsonb: the seed contract's object
--    {"is_wedding_day": bool, "is_weekend": bool, "wedding_id": uuid text or null}
--    for an organization's LOCAL date `day` (organizations.timezone):
--    is_wedding_day: a wedding of the organization (not cancelled) that day;
--    is_weekend: the day is a Saturday or a Sunday (ISO day of week 6 or 7);
--    wedding_id: that day's wedding (the earliest ceremony, then the lowest id
--    when there are several), null when none. Runs with the caller's rights:
--    under RLS the caller must see the organization's weddings (a vendor
--    context sees its own; ingest runs in the API key's vendor context).
CREATE FUNCTION wedding_context(org uuid, day date) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = public AS $$
  SELECT jsonb_build_object('is_wedding_day', w.id IS NOT NULL,
                            'is_weekend', extract(isodow FROM day) >= 6,
                            'wedding_id', w.id)
  FROM (SELECT 1) one
  LEFT JOIN LATERAL (SELECT x.id FROM weddings x
                     WHERE x.organization_id = org AND x.wedding_date = day AND x.status <> 'cancelled'
                     ORDER BY x.ceremony_time NULLS LAST, x.id LIMIT 1) w ON true
$$;
