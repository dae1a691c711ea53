CREATE TYPE escalation_level AS ENUM ('none', 'team_lead', 'manager', 'director', 'executive');
