"""``/accounts/tokens/``: a person's API tokens: create one (shown once), see when each expires, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from wedsync_ops.tenancy.tokens import user_token_create, user_token_revoke, user_tokens
from wedsync_ops.validation import InputError, bounded_int


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """List the user's tokens (prefix, created, expires); ``POST action=create`` (``expiry_days``) shows the
    new token once; ``POST action=revoke`` (``token``: a digest of theirs) revokes it. Bad input: 400."""
    created = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            try:
                days = bounded_int(request.POST.get("expiry_days") or "90", field="expiry_days", minimum=1, maximum=366)
                _row, created = user_token_create(user=request.user, expiry_days=days)
            except (InputError, ValidationError) as exc:
                messages.error(request, f"expiry_days: {getattr(exc, 'reason', exc)}")
                status = 400
        elif action == "revoke":
            if user_token_revoke(user=request.user, digest=request.POST.get("token", "")):
                messages.success(request, "Token revoked: it no longer works.")
                return redirect("api-tokens")
            messages.error(request, "token: no such token of yours")
            status = 400
        else:
            messages.error(request, "action: must be create or revoke")
            status = 400
    return render(
        request, "pages/tokens.html", {"tokens": user_tokens(user=request.user), "created": created}, status=status
    )
