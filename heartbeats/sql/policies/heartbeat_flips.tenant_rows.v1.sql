SELECT apply_tenant_rls('heartbeat_flips');
