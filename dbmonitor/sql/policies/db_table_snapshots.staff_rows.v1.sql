SELECT apply_staff_only_rls('db_table_snapshots');
