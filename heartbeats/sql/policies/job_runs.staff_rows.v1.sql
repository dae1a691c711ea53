SELECT apply_staff_only_rls('job_runs');
