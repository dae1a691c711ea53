"""Request-wide input checks that no view should have to repeat.

``TextInputMiddleware``: every query-string parameter and every field of a form body
(``application/x-www-form-urlencoded`` or ``multipart/form-data``) is text the portal may
store or look up, and PostgreSQL text cannot hold a NUL character. A name or value with one
(``%00``) answers 400 naming the field before any view or query runs: API paths (``/api/``,
``/v1/``) as JSON ``{field: [reason]}``, pages as plain text; a form body larger than
``DATA_UPLOAD_MAX_MEMORY_SIZE`` answers 413. Form decoding replaces invalid UTF-8, so lone
surrogates cannot arrive this way; JSON bodies are checked by ``wedsync_ops.api.JSONParser``
and ``wedsync_ops.validation.json_loads``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse

from .validation import printable, text_problem

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _first_problem(params) -> tuple[str, str] | None:
    for name, values in params.lists():
        problem = text_problem(name)
        if problem:
            return printable(name), f"the parameter name {problem}"
        for value in values:
            problem = text_problem(value)
            if problem:
                return printable(name), problem
    return None


class TextInputMiddleware:
    """Refuse NUL characters in query strings and form bodies with 400 naming the field (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = _first_problem(request.GET)
        if found is None and request.method == "POST" and request.content_type in FORM_TYPES:
            try:
                _ = request.body  # read (and keep) the raw body first: views that read it still can
            except RequestDataTooBig:
                return self._refuse(
                    request, "body", f"is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes", status=413
                )
            found = _first_problem(request.POST)
        if found is not None:
            return self._refuse(request, *found)
        return self.get_response(request)

    @staticmethod
    def _refuse(request, field: str, reason: str, status: int = 400):
        if request.path.startswith(("/api/", "/v1/")):
            return JsonResponse({field: [reason]}, status=status)
        text = f"Bad request: {field}: {reason}\n"
        return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def client_ip(request) -> str:
    """The client's address: ``REMOTE_ADDR``, or behind ``settings.TRUSTED_PROXY_COUNT`` proxies the address
    that many entries from the right of ``X-Forwarded-For`` (the one the outermost trusted proxy saw)."""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    remote = request.META.get("REMOTE_ADDR", "")
    if count <= 0:
        return remote
    chain = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    return chain[-count] if len(chain) >= count else remote
