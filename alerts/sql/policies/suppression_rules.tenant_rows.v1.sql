-- suppression_rules (silences, maintenance windows, inhibition rules) hold
-- tenant data: an organization's rules are its own, NULL organization rows
-- are platform-wide (staff and services only).
SELECT apply_tenant_rls('suppression_rules');
