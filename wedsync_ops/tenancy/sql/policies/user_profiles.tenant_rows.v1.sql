SELECT apply_tenant_rls('user_profiles');
