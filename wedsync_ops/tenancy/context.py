"""The tenant context of a transaction, as row-level security reads it.

Every policy compares rows with three transaction-local settings (see
docs/design/tenancy-and-rls.md):

- ``app.role``: ``staff`` (all rows), ``service`` (background jobs: all rows),
  ``vendor`` (rows of ``app.org_id`` only), or ``''`` (no rows).
- ``app.org_id``: the vendor's organization uuid, or ``''``.
- ``app.user_id``: the Django user id, or ``''``; lets a user read their own
  ``user_profiles`` row before the role is known.

They are set with ``set_config(name, value, true)``, which lasts until the
transaction ends, never with session-level ``SET``: a pooled connection then
cannot carry one request's tenant into the next. After the transaction the
settings read ``''``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import structlog
from django.db import connections, transaction

ROLE_STAFF = "staff"
ROLE_SERVICE = "service"
ROLE_VENDOR = "vendor"
ROLES = (ROLE_STAFF, ROLE_SERVICE, ROLE_VENDOR, "")


class TenantContextError(RuntimeError):
    """Raised when a context is set outside a transaction or with a bad value."""


@dataclass(frozen=True)
class TenantContext:
    """A tenant context: ``role`` one of ROLES, ``org_id`` and ``user_id`` or None."""

    role: str = ""
    org_id: uuid.UUID | None = None
    user_id: int | None = None


NO_CONTEXT = TenantContext()


def set_tenant_context(ctx: TenantContext, *, using: str = "default") -> None:
    """Set ``app.role``, ``app.org_id`` and ``app.user_id`` for the current transaction.

    Raises TenantContextError when called outside ``transaction.atomic()``
    (in autocommit the setting would vanish with the statement) or when the
    role is unknown, or a vendor context has no organization.
    """
    if ctx.role not in ROLES:
        raise TenantContextError(f"unknown role {ctx.role!r}")
    if ctx.role == ROLE_VENDOR and ctx.org_id is None:
        raise TenantContextError("a vendor context needs an organization")
    conn = connections[using]
    if not conn.in_atomic_block:
        raise TenantContextError("the tenant context is per transaction: call it inside transaction.atomic()")
    # Log lines written from here on name the organization (wedsync_ops.logconfig).
    if ctx.org_id is not None:
        structlog.contextvars.bind_contextvars(organization_id=str(ctx.org_id))
    else:
        structlog.contextvars.unbind_contextvars("organization_id")
    with conn.cursor() as cur:
        cur.execute(
            "SELECT set_config('app.role', %s, true), set_config('app.org_id', %s, true),"
            " set_config('app.user_id', %s, true)",
            [ctx.role, str(ctx.org_id or ""), str(ctx.user_id or "")],
        )


def current_tenant_context(*, using: str = "default") -> TenantContext:
    """Read the context the database sees now (``''`` settings give NO_CONTEXT fields)."""
    with connections[using].cursor() as cur:
        cur.execute(
            "SELECT current_setting('app.role', true), current_setting('app.org_id', true),"
            " current_setting('app.user_id', true)"
        )
        role, org_id, user_id = cur.fetchone()
    return TenantContext(
        role=role or "",
        org_id=uuid.UUID(org_id) if org_id else None,
        user_id=int(user_id) if user_id else None,
    )


@contextlib.contextmanager
def tenant_context(ctx: TenantContext, *, using: str = "default") -> Iterator[TenantContext]:
    """Run a block in a transaction (or savepoint) with ``ctx`` set.

    On exit the previous context is restored, so a service can widen or
    narrow the context for a step without leaking it to its caller.
    """
    with transaction.atomic(using=using):
        previous = current_tenant_context(using=using)
        set_tenant_context(ctx, using=using)
        yield ctx
        # Reached only on a normal exit. On an exception the savepoint rolls
        # back, which undoes set_config(..., true) by itself; querying an
        # aborted transaction here would only hide the real error.
        if not connections[using].needs_rollback:
            set_tenant_context(previous, using=using)


def service_context(**kwargs: Any) -> AbstractContextManager[TenantContext]:
    """Shorthand for ``tenant_context(TenantContext(role='service'))``: beat jobs and workers."""
    return tenant_context(TenantContext(role=ROLE_SERVICE), **kwargs)


def staff_context(user_id: int | None = None, **kwargs: Any) -> AbstractContextManager[TenantContext]:
    """Shorthand for a staff context (all rows)."""
    return tenant_context(TenantContext(role=ROLE_STAFF, user_id=user_id), **kwargs)


def vendor_context(
    org_id: uuid.UUID, user_id: int | None = None, **kwargs: Any
) -> AbstractContextManager[TenantContext]:
    """Shorthand for a vendor context: the rows of ``org_id`` only."""
    return tenant_context(TenantContext(role=ROLE_VENDOR, org_id=org_id, user_id=user_id), **kwargs)


def context_for_user(user: Any, *, using: str = "default") -> TenantContext:
    """The context a Django user works in.

    Staff (``is_staff``) get ``staff``; a user with a profile gets ``vendor``
    in the profile's organization; anyone else gets no context (no rows).
    Must run inside a transaction: it sets ``app.user_id`` first so that the
    user can read their own ``user_profiles`` row through RLS.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_CONTEXT
    if user.is_staff:
        return TenantContext(role=ROLE_STAFF, user_id=user.pk)
    set_tenant_context(TenantContext(role="", user_id=user.pk), using=using)
    from .models import UserProfile

    profile = UserProfile.objects.using(using).filter(user_id=user.pk).only("organization_id").first()
    if profile is None:
        return TenantContext(role="", user_id=user.pk)
    return TenantContext(role=ROLE_VENDOR, org_id=profile.organization_id, user_id=user.pk)


def apply_user_context(user: Any, *, using: str = "default") -> TenantContext:
    """Resolve ``context_for_user`` and set it on the current transaction."""
    ctx = context_for_user(user, using=using)
    set_tenant_context(ctx, using=using)
    return ctx
