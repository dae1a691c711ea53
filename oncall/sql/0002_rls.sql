-- Row-level security of the on-call tables. Platform rows (organization_id NULL: platform schedules,
-- operations staff's contact methods, rules and pages) are visible to staff and services only; an
-- organization's rows to that organization's context.
SELECT apply_tenant_rls('oncall_schedules');
SELECT apply_tenant_rls('oncall_rotations');
SELECT apply_tenant_rls('oncall_rotation_participants');
SELECT apply_tenant_rls('oncall_overrides');
SELECT apply_tenant_rls('oncall_people');
SELECT apply_tenant_rls('oncall_contact_methods');
SELECT apply_tenant_rls('oncall_notification_rules');
SELECT apply_tenant_rls('oncall_acknowledge_tokens');
-- Which organizations' wedding days drive a platform schedule's wedding-day layers: staff only.
SELECT apply_staff_only_rls('oncall_schedule_wedding_day_scope');
