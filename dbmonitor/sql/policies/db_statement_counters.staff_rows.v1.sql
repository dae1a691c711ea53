SELECT apply_staff_only_rls('db_statement_counters');
