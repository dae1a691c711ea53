from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "wedsync_ops.pages"
    label = "pages"
    verbose_name = "Pages"
