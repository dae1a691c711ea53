"""API conventions shared by every endpoint: the error handler, the JSON parser and the paginator.

- ``exception_handler``: DRF's; validation errors keep DRF's ``{"field": ["reason"]}`` shape.
- ``JSONParser``: the default parser of every DRF view (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``):
  request bodies are decoded by ``wedsync_ops.validation.json_loads`` (at most 64 levels, no NaN, no
  NUL or lone surrogate in any string), and a refused body answers 400 ``{field: [reason]}``.
- ``BoundedLimitOffsetPagination``: ``?limit=`` is cut to ``MAX_LIMIT`` (1000) and ``?offset=`` above
  ``MAX_OFFSET`` answers 400 naming ``offset`` (a bigint past 2^63 never reaches PostgreSQL).
"""

from rest_framework import exceptions, parsers
from rest_framework.pagination import LimitOffsetPagination

from .validation import InputError, bounded_int, json_loads

MAX_LIMIT = 1000
MAX_OFFSET = 10_000_000


def exception_handler(exc, context):
    """DRF's handler; validation errors keep DRF's ``{"field": ["reason"]}`` shape.

    Kept as one place to adapt error bodies for every endpoint. (``rest_framework.views`` is imported
    here, not at the top: importing it reads ``DEFAULT_PARSER_CLASSES``, which names this module.)
    """
    from rest_framework.views import exception_handler as drf_exception_handler

    return drf_exception_handler(exc, context)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser decoding through ``wedsync_ops.validation.json_loads``; 400 ``{field: [reason]}``."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            return json_loads(raw)
        except InputError as exc:
            raise exceptions.ValidationError(exc.as_dict()) from None


def request_object(request, *, field: str = "body") -> dict:
    """``request.data`` when it is a JSON object (or a form); raises ValidationError 400 otherwise.

    For actions whose body is optional: an empty body is ``{}``; ``[]``, ``null`` or ``"x"`` answer
    ``{"body": ["must be a JSON object"]}``.
    """
    data = request.data
    if hasattr(data, "get") and hasattr(data, "items"):
        return data
    raise exceptions.ValidationError({field: ["must be a JSON object"]})


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """LimitOffsetPagination with ``limit`` at most 1000 and ``offset`` at most 10,000,000 (400 beyond)."""

    max_limit = MAX_LIMIT

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["schema"].update({"minimum": 1, "description": f"cut to {MAX_LIMIT}"})
            elif parameter["name"] == self.offset_query_param:
                parameter["schema"].update({"minimum": 0, "maximum": MAX_OFFSET})
        return parameters

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param)
        if raw in (None, ""):
            return 0
        try:
            return bounded_int(raw, field=self.offset_query_param, minimum=0, maximum=MAX_OFFSET)
        except InputError as exc:
            raise exceptions.ValidationError(exc.as_dict()) from None

    def get_limit(self, request):
        raw = request.query_params.get(self.limit_query_param)
        if raw in (None, ""):
            return self.default_limit
        try:
            value = bounded_int(raw, field=self.limit_query_param, minimum=1, maximum=10**30)
        except InputError as exc:
            raise exceptions.ValidationError(exc.as_dict()) from None
        return min(value, self.max_limit)


# --- OpenAPI -----------------------------------------------------------------------------------

ERROR_RESPONSES = {
    "400": "Bad input: a JSON object naming each refused field and why ({field: [reason]} or {detail})",
    "401": "No credentials, or unknown, expired or revoked ones",
    "403": "Authenticated but not allowed",
    "404": "Unknown object, or another organization's (the same answer)",
    "413": "The body is larger than the limit",
    "429": "Rate limited: retry after the Retry-After header's seconds",
}
_ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": True,
    "description": 'DRF\'s error shape: {"detail": str} or {field: [reasons]}',
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents 400, 401, 403, 404, 413 and 429 (and 415
    when it takes a body).

    Each is a JSON object (``_ERROR_SCHEMA``), unless the view documented its own; so a client (and
    schemathesis) knows every status the portal may answer besides the success.
    """
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}
                )
            if "requestBody" in operation:  # a body of another media type; its answer's own (OTLP: protobuf Status)
                responses.setdefault("415", {"description": "The body's Content-Type is not one this operation reads"})
    return result
