CREATE FUNCTION app_token_hash() RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('app.token_hash', true), '') $$;
