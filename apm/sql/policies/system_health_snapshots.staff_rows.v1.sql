SELECT apply_staff_only_rls('system_health_snapshots');
