-- Authentication: the caller presenting a key's hash may read that one row.
CREATE POLICY token_lookup ON api_keys FOR SELECT USING (key_hash = app_token_hash());
