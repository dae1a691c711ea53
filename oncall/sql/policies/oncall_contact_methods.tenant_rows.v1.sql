SELECT apply_tenant_rls('oncall_contact_methods');
