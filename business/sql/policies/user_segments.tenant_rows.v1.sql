-- user_segments: an organization's segment definitions.
-- Tenant data: RLS enabled and forced, one policy (tenancy's apply_tenant_rls):
-- platform contexts (staff, service) see all rows, a vendor context its organization's rows only.
SELECT apply_tenant_rls('user_segments');
