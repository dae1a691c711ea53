-- Row-level security of the on-call tables. Platform rows (organization_id NULL: platform schedules,
-- operations staff's contact methods, rules and pages) are visible to staff and services only; an
-- organization's rows to that organization's context.
SELECT apply_tenant_rls('oncall_schedules');
