"""Error report validation and fingerprinting (pure Python, no database).

A fingerprint groups reports of "the same error": SHA-256 hex of the error
type, the normalized message and the top frame, joined by U+001F. The
normalization replaces the parts of a message that vary between occurrences
of one bug (ids, numbers, quoted values, addresses) with placeholders, as
Sentry's default grouping does for messages; the top frame is the innermost
frame as ``file:function`` without line numbers, so that a release that
moves code keeps the group.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass, field

from .models import ErrorLevel
from .validation import check_text, parse_timestamp

# Limits of one report, in characters (or items).
ERRORS_MAX_BATCH = 1000
TYPE_MAX_LENGTH = 200
MESSAGE_MAX_LENGTH = 10_000
STACK_MAX_LENGTH = 50_000
FRAMES_MAX_COUNT = 200
ENVIRONMENT_MAX_LENGTH = 50
RELEASE_MAX_LENGTH = 100
URL_MAX_LENGTH = 2000
TOP_FRAME_MAX_LENGTH = 500

_NORMALIZERS = (
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I), "<uuid>"),
    # An address starts at its run's first word character (where ``\b[\w.+-]+@`` used to start), found in
    # one pass: the lookbehind lets a match begin only where a run of [\w.+-] begins, and the possessive
    # runs never backtrack, so a long "a.a.a.…" without an "@" costs one scan instead of one per position.
    (re.compile(r"(?<![\w.+-])([.+-]*+)\w[\w.+-]*+@[\w-]+(?:\.[\w-]+)+\b"), r"\1<email>"),
    (re.compile(r"\bhttps?://\S+"), "<url>"),
    (re.compile(r"\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b"), "<ip>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<hex>"),
    (re.compile(r"\b[0-9a-f]{16,}\b", re.I), "<hex>"),
    (re.compile(r"'[^']*'|\"[^\"]*\""), "<str>"),
    (re.compile(r"\b\d+(\.\d+)?\b"), "<num>"),
    (re.compile(r"\s+"), " "),
)
_PY_FRAME = re.compile(r'File "(?P<file>[^"]+)", line \d+, in (?P<function>\S+)')
_JS_FRAME = re.compile(r"^\s*at (?:(?P<function>[^\s(]+) \()?(?P<file>[^():\s]+(?::[^():\s]+)*?)(?::\d+){1,2}\)?\s*$")


def normalize_message(message: str) -> str:
    """``message`` with ids, numbers, quoted values, emails, URLs and IPs replaced by placeholders.

    ``"Payment 4411 failed for 'anna@example.com'"`` → ``"Payment <num> failed for <str>"``. At most
    ``MESSAGE_MAX_LENGTH`` (10,000) characters are read and every pattern is linear in them (one scan
    each, no pattern retries a run from each of its positions), so the cost is bounded whatever the text.
    """
    text = message.strip()[:MESSAGE_MAX_LENGTH]
    for pattern, placeholder in _NORMALIZERS:
        text = pattern.sub(placeholder, text)
    return text[:2000]


def top_frame(*, stack_trace: str = "", frames: list[dict] | None = None) -> str:
    """The innermost frame as ``file:function`` (no line numbers), or ``""``.

    ``frames`` follow Sentry's order, outermost first, so the top frame is
    the last; a Python traceback's top frame is its last ``File "…", line n,
    in f`` line; a JavaScript (V8) stack's is its first ``at f (file:l:c)``.
    """
    if frames:
        last = frames[-1]
        return f"{last.get('file') or last.get('filename') or ''}:{last.get('function') or ''}"[:TOP_FRAME_MAX_LENGTH]
    if not stack_trace:
        return ""
    python = _PY_FRAME.findall(stack_trace)
    if python:
        file, function = python[-1]
        return f"{file}:{function}"[:TOP_FRAME_MAX_LENGTH]
    for line in stack_trace.splitlines():
        match = _JS_FRAME.match(line)
        if match:
            return f"{match['file']}:{match['function'] or '<anonymous>'}"[:TOP_FRAME_MAX_LENGTH]
    return ""


def fingerprint(error_type: str, normalized: str, frame: str) -> str:
    """SHA-256 hex (64 characters) of type, normalized message and top frame, joined by U+001F."""
    return hashlib.sha256("\x1f".join((error_type, normalized, frame)).encode()).hexdigest()


@dataclass(frozen=True)
class ErrorRow:
    """One validated error report, ready for COPY."""

    organization_id: uuid.UUID
    service: str
    error_type: str
    message: str
    stack_trace: str
    level: str
    environment: str
    release: str
    url: str
    tags: dict
    occurred_at: dt.datetime
    normalized_message: str
    top_frame: str
    fingerprint: str = field(default="")


_FIELDS = frozenset(
    {
        "service",
        "type",
        "message",
        "level",
        "stack_trace",
        "frames",
        "timestamp",
        "environment",
        "release",
        "url",
        "tags",
    }
)


class ErrorsValidationError(ValueError):
    """A batch of error reports was refused; nothing was stored.

    ``detail`` (str) for the batch as a whole, or ``errors``:
    ``[{"index": i, "field": name, "reason": text}]`` for every bad field.
    """

    def __init__(self, *, detail: str | None = None, errors: list[dict] | None = None):
        self.detail = detail
        self.errors = errors or []
        super().__init__(detail or f"{len(self.errors)} invalid field(s) in the error batch")

    def as_dict(self, *, max_errors: int = 100) -> dict:
        if self.detail is not None:
            return {"detail": self.detail}
        return {"errors": self.errors[:max_errors], "error_count": len(self.errors)}


def errors_validate(*, organization_id: uuid.UUID, payload, now: dt.datetime) -> list[ErrorRow]:
    """Validate a decoded JSON error batch; returns its reports as ErrorRows (fingerprinted).

    ``payload``: one report, ``{"errors": [report, …]}`` or a list (1 to
    1,000 reports). A report: ``{"service": str ≤100, "type": str ≤200,
    "message": str ≤10,000, "level": info|warning|error|critical (default
    error), "stack_trace": str ≤50,000 (optional), "frames": [{"file",
    "function", "line"}] ≤200, outermost first (optional), "timestamp":
    ISO-8601 with offset or epoch seconds (default now; within the 90-day
    retention, ≤5 min ahead), "environment" ≤50, "release" ≤100, "url"
    ≤2,000, "tags": {str: str} ≤32}``. Raises ErrorsValidationError naming
    every bad field of every report (``index`` 0-based).
    """
    if isinstance(payload, dict) and "errors" in payload:
        extra = sorted(set(payload) - {"errors"})
        if extra:
            raise ErrorsValidationError(detail=f"unknown top-level field(s) {', '.join(extra)}")
        reports = payload["errors"]
    elif isinstance(payload, dict):
        reports = [payload]
    else:
        reports = payload
    if not isinstance(reports, list):
        raise ErrorsValidationError(detail='the body must be a report, {"errors": [report, ...]} or a list')
    if not reports:
        raise ErrorsValidationError(detail="the batch is empty")
    if len(reports) > ERRORS_MAX_BATCH:
        raise ErrorsValidationError(
            detail=f"the batch has {len(reports)} reports; at most {ERRORS_MAX_BATCH} are accepted"
        )
    errors: list[dict] = []
    rows: list[ErrorRow] = []
    for index, report in enumerate(reports):
        if not isinstance(report, dict):
            errors.append({"index": index, "field": None, "reason": "must be a JSON object"})
            continue
        before = len(errors)

        def bad(name, reason, index=index):
            errors.append({"index": index, "field": name, "reason": reason})

        for key in sorted(report.keys() - _FIELDS):
            bad(
                key[:120],
                "not allowed: the organization comes from the API key"
                if key in ("organization", "organization_id", "org")
                else "unknown field",
            )

        def text(name, max_length, *, required=False, default="", report=report):
            value = report.get(name)
            if value is None:
                if required:
                    bad(name, "is required")
                return default
            if reason := check_text(value, max_length=max_length, required=required):
                bad(name, reason)
                return default
            return value

        service = text("service", 100, required=True)
        error_type = text("type", TYPE_MAX_LENGTH, required=True)
        message = text("message", MESSAGE_MAX_LENGTH, required=True)
        stack = text("stack_trace", STACK_MAX_LENGTH)
        environment = text("environment", ENVIRONMENT_MAX_LENGTH)
        release = text("release", RELEASE_MAX_LENGTH)
        url = text("url", URL_MAX_LENGTH)
        level = report.get("level", ErrorLevel.ERROR)
        if level not in ErrorLevel.values:
            bad("level", f"must be one of {', '.join(ErrorLevel.values)}")
        frames = report.get("frames")
        if frames is not None:
            if not isinstance(frames, list) or not all(isinstance(f, dict) for f in frames):
                bad("frames", "must be a list of objects with file, function and line")
                frames = None
            elif len(frames) > FRAMES_MAX_COUNT:
                bad("frames", f"must have at most {FRAMES_MAX_COUNT} frames (got {len(frames)})")
                frames = None
            elif any(not isinstance(f.get(k, ""), str) for f in frames for k in ("file", "function")):
                bad("frames", "file and function must be strings")
                frames = None
        tags = report.get("tags") or {}
        if (
            not isinstance(tags, dict)
            or len(tags) > 32
            or not all(
                isinstance(k, str) and isinstance(v, str) and len(k) <= 100 and len(v) <= 200 for k, v in tags.items()
            )
        ):
            bad("tags", "must be at most 32 string tags (names ≤100, values ≤200 characters)")
            tags = {}
        raw_at = report.get("timestamp")
        occurred_at = now
        if raw_at is not None:
            occurred_at, reason = parse_timestamp(raw_at, now=now)
            if reason:
                bad("timestamp", reason)
        if len(errors) == before:
            if frames and not stack:
                stack = "\n".join(
                    f"{f.get('file', '')}:{f.get('line', '')} in {f.get('function', '')}" for f in frames
                )[:STACK_MAX_LENGTH]
            normalized = normalize_message(message)
            frame = top_frame(stack_trace=stack, frames=frames)
            rows.append(
                ErrorRow(
                    organization_id,
                    service,
                    error_type,
                    message,
                    stack,
                    level,
                    environment,
                    release,
                    url,
                    tags,
                    occurred_at,
                    normalized,
                    frame,
                    fingerprint(error_type, normalized, frame),
                )
            )
    if errors:
        raise ErrorsValidationError(errors=errors)
    return rows
