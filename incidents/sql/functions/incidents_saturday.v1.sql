-- incidents_saturday: the BEFORE row trigger of incidents (tables/incidents.v1.sql) that sets
-- is_saturday_incident: the organization's local date at detected_at is a Saturday (issue 18 §1).
CREATE FUNCTION incidents_saturday() RETURNS trigger
LANGUAGE plpgsql SET search_path = public AS $$
BEGIN
  NEW.is_saturday_incident := coalesce(
    extract(isodow FROM org_local_date(NEW.organization_id, coalesce(NEW.detected_at, now()))) = 6, false);
  RETURN NEW;
END $$;
