CREATE TYPE service_status AS ENUM ('healthy', 'warning', 'critical', 'unknown', 'maintenance');
