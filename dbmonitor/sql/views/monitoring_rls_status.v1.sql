CREATE VIEW monitoring_rls_status WITH (security_invoker = true) AS
SELECT * FROM monitoring_rls_status_in('public') WHERE app_is_platform();
