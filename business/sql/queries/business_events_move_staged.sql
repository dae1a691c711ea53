-- Move the staged business events into business_events in the batch's order; RLS checks every row
-- (a vendor context writes only its own organization's events).
WITH staged AS (
    DELETE FROM business_events_stage_v1
    RETURNING n, organization_id, event_type, actor_id, properties, revenue_impact, currency, "timestamp"
)
INSERT INTO business_events (organization_id, event_type, actor_id, properties, revenue_impact, currency, "timestamp")
SELECT organization_id, event_type, actor_id, properties::jsonb, revenue_impact, currency, "timestamp"
FROM staged
ORDER BY n
