"""WedSync Ops: the operations portal of the wedding-vendor platform."""

from .celery import app as celery_app

__all__ = ("celery_app",)
