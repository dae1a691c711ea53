-- Every business table is tenant data: RLS enabled and forced, one policy (tenancy's apply_tenant_rls):
-- platform contexts (staff, service) see all rows, a vendor context its organization's rows only.
SELECT apply_tenant_rls('business_events');
SELECT apply_tenant_rls('conversion_funnels');
SELECT apply_tenant_rls('conversion_funnel_steps');
SELECT apply_tenant_rls('feature_usage');
SELECT apply_tenant_rls('revenue_metrics');
SELECT apply_tenant_rls('user_segments');
SELECT apply_tenant_rls('user_segment_counts');
SELECT apply_tenant_rls('business_alert_rules');
