-- The outbox after issue 10: escalation steps in their own column, attempts per channel, and the
-- references to alerts and incidents kept as foreign keys that follow their rows.

-- Every attempt names its channel (tests have no delivery): fill it for the old rows.
UPDATE notification_delivery_attempts a SET channel_id = d.channel_id
  FROM notification_deliveries d WHERE a.delivery_id = d.id AND a.channel_id IS NULL;
