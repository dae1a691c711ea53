-- Escalation steps were stored as the event 'incident.escalated.<n>': now event + step.
UPDATE notification_deliveries
   SET step = split_part(event, '.', 3)::int, event = 'incident.escalated'
 WHERE event ~ '^incident\.escalated\.[0-9]+$';
