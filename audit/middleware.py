"""The audit trail's request context: who changed what, from which page or API call.

``AuditContextMiddleware`` opens a ``pghistory.context`` for every writing request (POST, PUT,
PATCH, DELETE: ``PGHISTORY_MIDDLEWARE_METHODS``) with ``user`` (the Django user id or None),
``username`` and ``url`` (the path); every tracked row the request writes carries that JSON in its
event's ``pgh_context``. Callers that authenticate inside the view (DRF) add themselves with
``pghistory.context(key=value)`` (a no-op outside an open context): a person's token
(``wedsync_ops.tenancy.auth``: ``user``, ``username``), an organization's API key (``api_key``),
an inbound integration (``alerts.integrations.auth``: ``integration``).
"""

from __future__ import annotations

from typing import Any

from pghistory.middleware import HistoryMiddleware


class AuditContextMiddleware(HistoryMiddleware):
    """pghistory's middleware with the user's name besides its id (names outlive deleted users)."""

    def get_context(self, request) -> dict[str, Any]:
        context = super().get_context(request)
        user = getattr(request, "user", None)
        context["username"] = user.get_username() if user is not None and user.is_authenticated else None
        return context
