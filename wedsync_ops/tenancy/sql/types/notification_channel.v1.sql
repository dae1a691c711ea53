CREATE TYPE notification_channel AS ENUM ('email', 'sms', 'slack', 'webhook', 'pagerduty');
