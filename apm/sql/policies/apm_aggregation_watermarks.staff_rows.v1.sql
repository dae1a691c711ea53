SELECT apply_staff_only_rls('apm_aggregation_watermarks');
