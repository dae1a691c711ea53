-- is_wedding_day(org, day): the organization has a wedding (not cancelled)
-- on that local date. Under RLS the caller must be able to see the weddings.
CREATE FUNCTION is_wedding_day(org uuid, day date) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM weddings w
                 WHERE w.organization_id = org AND w.wedding_date = day AND w.status <> 'cancelled')
$$;
