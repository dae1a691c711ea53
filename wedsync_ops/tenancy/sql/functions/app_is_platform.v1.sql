-- Staff and background services see every organization's rows.
CREATE FUNCTION app_is_platform() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT app_role() IN ('staff', 'service') $$;
