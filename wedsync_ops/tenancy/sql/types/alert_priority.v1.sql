CREATE TYPE alert_priority AS ENUM ('low', 'medium', 'high', 'critical');
