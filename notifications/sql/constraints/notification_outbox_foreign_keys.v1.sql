-- alert_id / incident_id are plain ids in Django's state (the notifications app imports neither
-- alerts nor incidents); in the database they stay foreign keys, now deleted with their alert or
-- incident, and a delivery's attempts with it.
DO $$
DECLARE c record;
BEGIN
  FOR c IN
    SELECT con.conname, att.attname
      FROM pg_constraint con
      JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
     WHERE con.conrelid = 'notification_deliveries'::regclass AND con.contype = 'f'
       AND att.attname IN ('alert_id', 'incident_id')
  LOOP
    EXECUTE format('ALTER TABLE notification_deliveries DROP CONSTRAINT %I', c.conname);
  END LOOP;
  FOR c IN
    SELECT con.conname FROM pg_constraint con
      JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
     WHERE con.conrelid = 'notification_delivery_attempts'::regclass AND con.contype = 'f'
       AND att.attname = 'delivery_id'
  LOOP
    EXECUTE format('ALTER TABLE notification_delivery_attempts DROP CONSTRAINT %I', c.conname);
  END LOOP;
END $$;
ALTER TABLE notification_deliveries
  ADD CONSTRAINT notification_deliveries_alert_fk FOREIGN KEY (alert_id) REFERENCES alert_history (id)
      ON DELETE CASCADE,
  ADD CONSTRAINT notification_deliveries_incident_fk FOREIGN KEY (incident_id) REFERENCES incidents (id)
      ON DELETE CASCADE;
ALTER TABLE notification_delivery_attempts
  ADD CONSTRAINT notification_delivery_attempts_delivery_fk FOREIGN KEY (delivery_id)
      REFERENCES notification_deliveries (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
