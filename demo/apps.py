from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data app: a management command, no models."""

    name = "demo"
    verbose_name = "Demo data"
