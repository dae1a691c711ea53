from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self):
        from notifications import signals

        from .receivers import channel_disabled_alert, channel_enabled_resolve

        signals.channel_disabled.connect(channel_disabled_alert, dispatch_uid="alerts.channel_disabled_alert")
        signals.channel_enabled.connect(channel_enabled_resolve, dispatch_uid="alerts.channel_enabled_resolve")
