"""The audit trail's request context: who changed what, from which page or API call.

``AuditContextMiddleware`` opens a ``pghistory.context`` for every writing request (POST, PUT,
PATCH, DELETE: ``PGHISTORY_MIDDLEWARE_METHODS``) with ``user`` (the Django user id or None),
``username`` and ``url`` (the path); every tracked row the request writes carries that JSON in its
event's ``pgh_context``. Callers that authenticate inside the view (DRF) add themselves with
``pghistory.context(key=value)`` (a no-op outside an open context): a person's token
(``wedsync_ops.tenancy.auth``: ``user``, ``username``), an organization's API key (``api_key``),
an inbound integration (``alerts.integrations.auth``: ``integration``).

Views that write no tracked table (metric ingest: ``apm_metrics`` and ``apm_metric_histograms`` only)
say so with ``audit_context = False``; their requests open no context, since pghistory prefixes every
SQL statement inside one with two ``set_config`` calls (``pghistory.runtime._inject_history_context``),
which cost the ingest path about 1 ms per request (issue 16 §3).
"""

from __future__ import annotations

from typing import Any

from django.urls import Resolver404, resolve
from pghistory import config as pghistory_config
from pghistory.middleware import HistoryMiddleware


def _audited(request) -> bool:
    """False when the request's view class says ``audit_context = False``; True otherwise (or no view)."""
    try:
        view_class = getattr(resolve(request.path_info).func, "view_class", None)
    except Resolver404:
        return True
    return getattr(view_class, "audit_context", True) is not False


class AuditContextMiddleware(HistoryMiddleware):
    """pghistory's middleware with the user's name besides its id (names outlive deleted users); no context for
    a view whose class sets ``audit_context = False`` (it writes no tracked table)."""

    def __call__(self, request):
        # Only writing methods open a context, so only they need the view (a second URL resolution).
        if request.method in pghistory_config.middleware_methods() and not _audited(request):
            return self.get_response(request)
        return super().__call__(request)

    def get_context(self, request) -> dict[str, Any]:
        context = super().get_context(request)
        user = getattr(request, "user", None)
        context["username"] = user.get_username() if user is not None and user.is_authenticated else None
        return context
