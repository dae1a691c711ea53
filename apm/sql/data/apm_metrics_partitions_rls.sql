-- Defense in depth for apm_metrics' daily partitions (issue 13). A query through apm_metrics is
-- checked by the parent's policy; a partition reached directly was protected only by having no
-- grant. Now every partition has row-level security enabled and forced with the parent's policy
-- (apply_tenant_rls), those that exist and those apm_ensure_metric_partitions creates later, and
-- the function itself is executable by the owner and the roles granted it (the application
-- role), never PUBLIC, and only in a platform context (staff or service): a vendor's ingest
-- creates a missing day's partition through a service context of its own (apm.services).

DO $$
DECLARE
  part regclass;
BEGIN
  FOR part IN
    SELECT i.inhrelid::regclass FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'public.apm_metrics'::regclass AND NOT c.relrowsecurity
  LOOP
    PERFORM apply_tenant_rls(part);
  END LOOP;
END $$;
