SELECT apply_tenant_rls('weddings');
