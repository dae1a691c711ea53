"""Logs: one JSON object per line on stdout (structlog), with the request, task, organization and user ids.

Every logger (Django's, Celery's, gunicorn's, the portal's ``logging`` and
``structlog`` loggers) goes through one ``structlog.stdlib.ProcessorFormatter``,
so a line looks the same whoever wrote it::

    {"event": "request_finished", "level": "info", "logger": "django_structlog.middlewares.request",
     "timestamp": "2026-06-13T12:00:00.123456Z", "request_id": "…", "user_id": 7,
     "organization_id": "…", "code": 200, "request": "GET /org/rosewood-florals/"}

Context: ``request_id`` (django-structlog's request middleware, a UUID per
request), ``user_id`` (the Django user, when known), ``task_id`` (Celery,
django-structlog's worker step), ``organization_id`` (bound by
``wedsync_ops.tenancy.context.set_tenant_context`` when a vendor context is
set). Secrets never reach a line: ``redact_secrets`` masks them by key and by
shape (below). ``LOG_FORMAT=console`` prints the same events for a person
instead (local use).
"""

from __future__ import annotations

import logging
import re

import structlog

REDACTED = "[redacted]"
# Keys whose values are secrets wherever they appear in an event.
_SECRET_KEY = re.compile(
    r"pass(word)?|secret|token|authori[sz]ation|api[_-]?key|cookie|credential|dsn|signature", re.IGNORECASE
)
# Secrets by shape inside any string: bearer credentials, the portal's own tokens
# (integration ``wsi_…``, API key ``wso_…``), the password of a URL, secret query values.
_SECRET_SHAPES = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), r"\1 " + REDACTED),
    (re.compile(r"\bws[a-z]_[A-Za-z0-9_-]{8,}"), REDACTED),
    (re.compile(r"(://[^/:@\s]+:)[^@\s/]+@"), r"\1" + REDACTED + "@"),
    (re.compile(r"(?i)([?&](?:token|key|api_key|secret|password|signature|sig|code)=)[^&\s\"']+"), r"\1" + REDACTED),
)


def redact_text(text: str) -> str:
    """``text`` with every secret-shaped part replaced by ``[redacted]`` (see ``_SECRET_SHAPES``)."""
    for pattern, replacement in _SECRET_SHAPES:
        text = pattern.sub(replacement, text)
    return text


def _redact(value, depth: int = 0):
    if isinstance(value, str):
        return redact_text(value)
    if depth < 3 and isinstance(value, dict):
        return {
            k: (REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) and v else _redact(v, depth + 1))
            for k, v in value.items()
        }
    if depth < 3 and isinstance(value, list | tuple):
        return [_redact(v, depth + 1) for v in value]
    return value


def redact_secrets(logger, method_name, event_dict: dict) -> dict:
    """structlog processor: mask secret-named keys (``token``, ``password``, ``authorization``…) and secret shapes."""
    return _redact(event_dict)


def _shared_processors() -> list:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure_structlog() -> None:
    """Route structlog's loggers through the standard library (and so through ``LOGGING``'s formatter)."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def json_formatter(fmt: str = "json") -> dict:
    """A ``logging.config`` formatter entry: records of any logger rendered as one JSON object (or console line)."""
    renderer = structlog.dev.ConsoleRenderer(colors=False) if fmt == "console" else structlog.processors.JSONRenderer()
    return {
        "()": structlog.stdlib.ProcessorFormatter,
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
        "foreign_pre_chain": _shared_processors(),
    }


def logging_config(*, level: str = "INFO", fmt: str = "json") -> dict:
    """The ``LOGGING`` setting: every record to stdout through ``json_formatter``; ``fmt`` json or console."""
    if fmt not in ("json", "console"):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"LOG_FORMAT={fmt!r}: use json or console")
    configure_structlog()
    logging.captureWarnings(True)  # Python warnings (e.g. Celery's SecurityWarning) as JSON lines too
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": json_formatter(fmt)},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "structured"},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's request logger repeats what django-structlog's request_finished says.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
        },
    }
