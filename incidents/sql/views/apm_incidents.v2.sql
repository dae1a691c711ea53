-- The apm_incidents view was created with the columns incidents had then:
-- recreate it so it shows the new columns too.
DROP VIEW apm_incidents;
CREATE VIEW apm_incidents WITH (security_invoker = true) AS SELECT * FROM incidents;
