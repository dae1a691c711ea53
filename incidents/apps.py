from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self):
        from notifications import signals

        from .receivers import record_failed_delivery

        signals.delivery_failed.connect(record_failed_delivery, dispatch_uid="incidents.record_failed_delivery")
