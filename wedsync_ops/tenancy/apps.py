from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "wedsync_ops.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .grants import grant_app_role
        from .groups import sync_staff_groups

        post_migrate.connect(grant_app_role, sender=self)
        post_migrate.connect(sync_staff_groups, dispatch_uid="wedsync_sync_staff_groups")
