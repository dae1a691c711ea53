from django.apps import AppConfig


class HeartbeatsConfig(AppConfig):
    name = "heartbeats"
    verbose_name = "Heartbeats"

    def ready(self):
        from alerts.signals import watchdog_received

        from . import jobs
        from .services import watchdog_receiver

        jobs.connect_signals()
        watchdog_received.connect(watchdog_receiver, dispatch_uid="heartbeats_watchdog")
