SELECT apply_tenant_rls('oncall_rotation_participants');
