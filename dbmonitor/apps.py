from django.apps import AppConfig


class DbmonitorConfig(AppConfig):
    name = "dbmonitor"
    verbose_name = "Database monitoring"
