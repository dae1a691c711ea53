from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "wedsync_ops.pages"
    label = "pages"
    verbose_name = "Pages"

    def ready(self):
        from wedsync_ops import checks  # noqa: F401  (registers the deploy checks)
