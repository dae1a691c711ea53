CREATE TYPE apm_provider AS ENUM ('datadog', 'newrelic', 'prometheus', 'grafana', 'custom', 'pingdom', 'uptime_robot');
