-- pg_monitor members read the views over the statistics catalogs (not the tenant tables).
GRANT SELECT ON monitoring_slow_queries, monitoring_connections, monitoring_table_health, monitoring_rls_status
  TO pg_monitor;
