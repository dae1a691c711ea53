from django.apps import AppConfig


class ApmConfig(AppConfig):
    name = "apm"
    verbose_name = "APM"

    def ready(self):
        from incidents import signals

        from .receivers import incident_correlation_section

        signals.incident_page_sections.connect(
            incident_correlation_section, dispatch_uid="apm.incident_correlation_section"
        )
