-- A logged-in user reads their own membership before the role is known.
CREATE POLICY own_profile ON user_profiles FOR SELECT USING (user_id = app_user_id());
