"""Per-request tenant context: one transaction per request, context set inside it."""

from django.db import connection, transaction

from .context import NO_CONTEXT, apply_user_context, current_tenant_context, set_tenant_context


class TenantContextMiddleware:
    """Open the request's transaction and set ``app.*`` from the logged-in user.

    Every query a view makes runs inside this transaction, so the settings
    apply to all of them and end with it (``set_config(..., true)``): the
    next request on the same pooled connection starts with no context.
    Should the request run inside an outer transaction (tests), the outer
    context is restored afterwards. Token- and key-authenticated API
    requests are anonymous here; their DRF authentication classes set the
    context once they know the caller (``wedsync_ops.tenancy.auth``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        outer = connection.in_atomic_block
        with transaction.atomic():
            previous = current_tenant_context() if outer else NO_CONTEXT
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                request.tenant = apply_user_context(user)
            else:
                set_tenant_context(NO_CONTEXT)
                request.tenant = NO_CONTEXT
            try:
                response = self.get_response(request)
            finally:
                if outer and not connection.needs_rollback:
                    set_tenant_context(previous)
        return response
