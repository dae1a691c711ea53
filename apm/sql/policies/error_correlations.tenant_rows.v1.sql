-- error_correlations is tenant data (issue 18 §3): platform contexts see every row, a vendor its own.
SELECT apply_tenant_rls('error_correlations');
