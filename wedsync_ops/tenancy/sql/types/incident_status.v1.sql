CREATE TYPE incident_status AS ENUM ('open', 'acknowledged', 'investigating', 'resolved', 'closed');
