-- pghistory's own context table is unused (the context is stored in each event row:
-- PGHISTORY_CONTEXT_FIELD = ContextJSONField), so nobody but platform contexts may touch it.
SELECT apply_staff_only_rls('pghistory_context');
