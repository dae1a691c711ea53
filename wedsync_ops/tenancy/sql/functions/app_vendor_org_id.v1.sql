-- The organization a vendor context may see, or NULL (no rows) for any other context.
CREATE FUNCTION app_vendor_org_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN app_role() = 'vendor' THEN app_org_id() END $$;
