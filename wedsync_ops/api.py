"""API conventions shared by every endpoint."""

from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """DRF's handler; validation errors keep DRF's ``{"field": ["reason"]}`` shape.

    Kept as one place to adapt error bodies for every endpoint.
    """
    return drf_exception_handler(exc, context)
