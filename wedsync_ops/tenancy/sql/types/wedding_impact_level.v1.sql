CREATE TYPE wedding_impact_level AS ENUM ('none', 'low', 'medium', 'high', 'wedding_day_critical');
