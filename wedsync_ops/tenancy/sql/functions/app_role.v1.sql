-- The tenant context, as set per transaction with set_config(…, true).
-- After a transaction ends a setting reads '' (not NULL), hence NULLIF.
CREATE FUNCTION app_role() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT coalesce(current_setting('app.role', true), '') $$;
