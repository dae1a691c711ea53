-- Audit trail (issue 14 §6): the event table under its source's rule (a vendor context reads its own
-- organization's events; staff and services all; platform-wide rows staff and service only). The
-- triggers insert as the writing role, so a write the source's policy lets through is let through here.
SELECT apply_tenant_rls('audit_escalation_policy_events');
