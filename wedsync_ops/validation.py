"""One validation layer per kind of input: JSON bodies, text, timestamps, dates and integers.

Every endpoint and form that takes one of these kinds goes through the function here, so a hostile
value answers 400 with the field and the reason everywhere at once instead of reaching PostgreSQL
(which refuses NUL in text, lone surrogates in UTF-8, offsets beyond ±15:59 and bigints past 2^63).

- ``json_loads(body, field=…)``: UTF-8 JSON, at most ``MAX_JSON_DEPTH`` (64) levels of arrays and
  objects, no ``NaN``/``Infinity`` (unless ``allow_nan``), and no string (key or value) that
  ``text_problem`` refuses; the error names the path (``alerts[0].labels.team``).
- ``text_problem(value)``: NUL characters (``\\u0000``) and lone surrogates (``"\\ud800"``).
- ``parse_rfc3339(value, field=…)``: RFC 3339 date-times with an offset within ±15:59 and a year
  from 1970 to 2100; ``check_time(at, field=…)`` applies the same bounds to any aware datetime.
- ``parse_date(value, field=…)``: ``YYYY-MM-DD`` from 1970 to 2100.
- ``bounded_int(value, field=…, minimum=…, maximum=…)``: a decimal integer within bounds.

Each raises ``InputError(field, reason)``; ``InputError.as_dict()`` is the API error body
``{field: [reason]}`` (DRF's validation-error shape).
"""

from __future__ import annotations

import datetime as dt
import json
import re

MAX_JSON_DEPTH = 64
MIN_YEAR, MAX_YEAR = 1970, 2100
# PostgreSQL's timestamptz accepts offsets up to ±15:59 (src/include/datatype/timestamp.h, TZDISP_LIMIT).
MAX_OFFSET = dt.timedelta(hours=15, minutes=59)
MAX_BIGINT = 2**63 - 1

_SURROGATE = re.compile("[\ud800-\udfff]")
_RFC3339 = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[Tt ](?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})"
    r"(?:\.(?P<frac>\d+))?(?P<tz>[Zz]|[+-]\d{2}:\d{2})$"
)


class InputError(ValueError):
    """A refused input: ``field`` (a name or a path such as ``alerts[0].startsAt``) and ``reason``."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def as_dict(self) -> dict[str, list[str]]:
        """``{field: [reason]}``."""
        return {self.field: [self.reason]}


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None: NUL characters or lone surrogates."""
    if "\x00" in value:
        return "must not contain NUL characters (\\u0000)"
    if _SURROGATE.search(value):
        return "must not contain lone surrogates (it is not valid Unicode)"
    return None


def check_text(value: str, *, field: str) -> str:
    """``value`` if ``text_problem`` finds nothing; raises InputError otherwise."""
    problem = text_problem(value)
    if problem:
        raise InputError(field, problem)
    return value


def printable(text: str, limit: int = 100) -> str:
    """``text`` cut to ``limit`` characters, with NUL and lone surrogates written as ``\\uXXXX`` (safe to echo)."""
    text = text[:limit]
    if text_problem(text):
        text = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text).replace("\x00", "\\u0000")
    return text


def _path(parent: str, key) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    key = printable(key)
    return f"{parent}.{key}" if parent else key


def check_json_tree(data, *, field: str = "", max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse a decoded JSON value nested deeper than ``max_depth`` or holding refused text.

    Iterative (no recursion, so no depth can exhaust the stack). Raises InputError naming the path
    (``field`` is the root's name; ``""`` for a body, whose paths then start at its keys).
    """
    stack = [(data, field, 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                raise InputError(where or "body", problem)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= max_depth:
            raise InputError(where or "body", f"is nested deeper than {max_depth} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                path = _path(where, key)
                problem = text_problem(key)
                if problem:
                    raise InputError(path, f"the key {problem}")
                stack.append((item, path, depth + 1))
        else:
            stack.extend((item, _path(where, i), depth + 1) for i, item in enumerate(value))


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def json_loads(body: bytes | str, *, field: str = "body", max_depth: int = MAX_JSON_DEPTH, allow_nan: bool = False):
    """Decode a JSON document under the rules above; raises InputError (``field`` or a path inside it).

    ``allow_nan``: accept ``NaN``/``Infinity`` (the metrics ingest reports them per point instead).
    A document nested deeper than the decoder can go (``"[" * 100000``) is refused like one deeper
    than ``max_depth``.
    """
    if isinstance(body, bytes | bytearray):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(field, "is not valid JSON (not UTF-8 text)") from None
    try:
        data = json.loads(body) if allow_nan else json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        raise InputError(field, f"is nested deeper than {max_depth} levels") from None
    except json.JSONDecodeError as exc:
        raise InputError(field, f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except ValueError as exc:  # NaN/Infinity
        raise InputError(field, f"is not valid JSON ({exc})") from None
    check_json_tree(data, field="" if field == "body" else field, max_depth=max_depth)
    return data


def check_time(at: dt.datetime, *, field: str) -> dt.datetime:
    """``at`` (aware) converted to UTC, if its year is 1970–2100 and its offset within ±15:59; else InputError."""
    offset = at.utcoffset()
    if offset is None:
        raise InputError(field, "must include a UTC offset (Z or ±hh:mm)")
    if abs(offset) > MAX_OFFSET:
        raise InputError(field, "has a UTC offset beyond ±15:59")
    try:
        utc = at.astimezone(dt.UTC)
    except OverflowError:
        raise InputError(field, f"must be between the years {MIN_YEAR} and {MAX_YEAR}") from None
    if not MIN_YEAR <= utc.year <= MAX_YEAR or not MIN_YEAR <= at.year <= MAX_YEAR:
        raise InputError(field, f"must be between the years {MIN_YEAR} and {MAX_YEAR}")
    return utc


def parse_rfc3339(value, *, field: str, allow_zero: bool = False) -> dt.datetime | None:
    """Parse an RFC 3339 date-time (``Z`` or ``±hh:mm``, any fraction digits, cut to microseconds) into UTC.

    Go's zero time (``0001-01-01T00:00:00Z``, Alertmanager's "no end") gives None when ``allow_zero``.
    The offset must be within ±15:59 and the year 1970–2100 (``check_time``). Raises InputError.
    """
    if not isinstance(value, str):
        raise InputError(field, f"must be an RFC 3339 timestamp string, got {type(value).__name__}")
    match = _RFC3339.match(value)
    if match is None:
        raise InputError(field, f"not an RFC 3339 timestamp: {value[:40]!r}")
    parts = match.groupdict()
    if int(parts["y"]) == 1 and allow_zero:
        return None
    tz_text = parts["tz"]
    if tz_text in ("Z", "z"):
        tzinfo = dt.UTC
    else:
        hours, minutes = int(tz_text[1:3]), int(tz_text[4:6])
        if minutes > 59:
            raise InputError(field, f"not an RFC 3339 time offset: {tz_text!r}")
        offset = dt.timedelta(hours=hours, minutes=minutes)
        if offset > MAX_OFFSET:
            raise InputError(field, "has a UTC offset beyond ±15:59")
        tzinfo = dt.timezone(offset if tz_text[0] == "+" else -offset)
    micro = int((parts["frac"] or "0")[:6].ljust(6, "0"))
    try:
        parsed = dt.datetime(
            int(parts["y"]),
            int(parts["mo"]),
            int(parts["d"]),
            int(parts["h"]),
            int(parts["mi"]),
            int(parts["s"]),
            micro,
            tzinfo=tzinfo,
        )
    except ValueError as exc:
        raise InputError(field, f"not a valid time: {value[:40]!r} ({exc})") from None
    return check_time(parsed, field=field)


def parse_date(value, *, field: str, default: dt.date | None = None) -> dt.date | None:
    """``YYYY-MM-DD`` from 1970 to 2100 (``default`` when empty); raises InputError."""
    if value in (None, ""):
        return default
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise InputError(field, "must be a date YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(field, "must be a date YYYY-MM-DD") from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise InputError(field, f"must be between the years {MIN_YEAR} and {MAX_YEAR}")
    return day


def bounded_int(value, *, field: str, minimum: int = 0, maximum: int = MAX_BIGINT, default: int | None = None) -> int:
    """A decimal integer from ``minimum`` to ``maximum`` (``default`` when empty); raises InputError."""
    if value in (None, "") and default is not None:
        return default
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d{1,30}", text):
        raise InputError(field, "must be an integer")
    number = int(text)
    if not minimum <= number <= maximum:
        raise InputError(field, f"must be an integer from {minimum} to {maximum}")
    return number
