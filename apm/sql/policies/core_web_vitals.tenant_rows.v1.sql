-- core_web_vitals is tenant data (issue 18 §2): platform contexts see every row, a vendor its organization's.
SELECT apply_tenant_rls('core_web_vitals');
