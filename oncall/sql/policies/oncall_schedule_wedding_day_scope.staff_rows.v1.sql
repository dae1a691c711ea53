-- Which organizations' wedding days drive a platform schedule's wedding-day layers: staff only.
SELECT apply_staff_only_rls('oncall_schedule_wedding_day_scope');
