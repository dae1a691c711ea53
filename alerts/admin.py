"""Admin of alert rules, alert history and integrations."""

from alerts.notifications import admin as _notifications_admin  # noqa: F401  (registers channel/delivery admins)
