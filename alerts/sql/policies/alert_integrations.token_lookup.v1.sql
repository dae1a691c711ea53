-- Authentication: the caller presenting a token's hash may read that one integration.
CREATE POLICY token_lookup ON alert_integrations FOR SELECT USING (token_hash = app_token_hash());
