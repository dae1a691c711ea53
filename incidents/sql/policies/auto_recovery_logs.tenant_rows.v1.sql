-- auto_recovery_logs (issue 18 §3) is tenant data; rows with a NULL organization (platform runbooks' actions
-- and their runs) are staff and service only.
SELECT apply_tenant_rls('auto_recovery_logs');
