-- database_performance is platform data (the database's own statements): staff and service only.
SELECT apply_staff_only_rls('database_performance');
