-- monitoring_events is staff-only: staff and service contexts alone.
SELECT apply_staff_only_rls('monitoring_events');
