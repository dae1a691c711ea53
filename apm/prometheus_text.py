"""Parse the Prometheus text exposition format (0.0.4) into metric points.

Format (https://prometheus.io/docs/instrumenting/exposition_formats/):
one sample a line, ``name{label="value",…} value [timestamp_ms]``; ``#``
lines are HELP/TYPE comments or ignored; label values escape ``\\``,
``\\"`` and ``\\n``; values are Go floats (``NaN``, ``+Inf``, ``-Inf``
allowed); the optional timestamp is integer milliseconds since the epoch.
"""

from __future__ import annotations

import math
import re

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}
# Unit inferred from the Prometheus naming convention's base-unit suffix.
_UNIT_SUFFIXES = (("_seconds", "s"), ("_milliseconds", "ms"), ("_bytes", "bytes"), ("_ratio", "ratio"))


class ParseError(ValueError):
    """A line that is not a valid sample; ``str()`` is the reason."""


def _parse_labels(text: str, pos: int) -> tuple[dict, int]:
    """Labels starting after ``{`` at ``pos``; returns ``(labels, position after })``."""
    labels: dict[str, str] = {}
    while True:
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos < len(text) and text[pos] == "}":
            return labels, pos + 1
        match = _LABEL_NAME.match(text, pos)
        if not match:
            raise ParseError(f"expected a label name at column {pos + 1}")
        name = match.group()
        pos = match.end()
        if text[pos : pos + 2] != '="':
            raise ParseError(f'expected =" after label {name}')
        pos += 2
        value = []
        while True:
            if pos >= len(text):
                raise ParseError(f"unterminated value of label {name}")
            ch = text[pos]
            if ch == "\\":
                nxt = text[pos + 1 : pos + 2]
                if nxt not in _ESCAPES:
                    raise ParseError(f"bad escape \\{nxt} in label {name}")
                value.append(_ESCAPES[nxt])
                pos += 2
            elif ch == '"':
                pos += 1
                break
            else:
                value.append(ch)
                pos += 1
        if name in labels:
            raise ParseError(f"label {name} appears twice")
        labels[name] = "".join(value)
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif pos < len(text) and text[pos] == "}":
            return labels, pos + 1
        else:
            raise ParseError(f"expected , or }} after label {name}")


def parse_line(line: str) -> tuple[str, dict, float, int | None]:
    """One sample line as ``(name, labels, value, timestamp_ms or None)``; raises ParseError."""
    match = _NAME.match(line)
    if not match:
        raise ParseError("expected a metric name")
    name = match.group()
    pos = match.end()
    labels: dict = {}
    if pos < len(line) and line[pos] == "{":
        labels, pos = _parse_labels(line, pos + 1)
    rest = line[pos:].split()
    if not rest or len(rest) > 2:
        raise ParseError("expected a value and an optional timestamp after the labels")
    try:
        value = float(rest[0])
    except ValueError as exc:
        raise ParseError(f"value {rest[0][:40]!r} is not a number") from exc
    timestamp = None
    if len(rest) == 2:
        try:
            timestamp = int(rest[1])
        except ValueError as exc:
            raise ParseError(f"timestamp {rest[1][:40]!r} is not integer milliseconds") from exc
    return name, labels, value, timestamp


def unit_of(name: str) -> str:
    """The unit of a sample by Prometheus naming conventions, or ``""``.

    ``_bucket`` and ``_count`` samples (of histograms, summaries) are
    counts; otherwise, after dropping ``_sum`` or ``_total``, a base-unit
    suffix gives the unit (``_seconds`` → ``s``, ``_bytes`` → ``bytes``);
    a ``_total`` without one is a count.
    """
    if name.endswith(("_bucket", "_count")):
        return "count"
    base = name.removesuffix("_sum").removesuffix("_total")
    for suffix, unit in _UNIT_SUFFIXES:
        if base.endswith(suffix):
            return unit
    return "count" if name.endswith("_total") else ""


def to_points(text: str, *, service: str | None) -> tuple[list[dict], list[int], list[dict], int]:
    """Convert an exposition into metric points for ``apm.services.metrics_validate``.

    Returns ``(points, line_numbers, errors, skipped)``: ``points`` in the
    JSON batch shape (``service`` from the ``service`` argument, else the
    sample's ``service`` label, else its ``job`` label, removed from the
    tags; the other labels become tags; ``timestamp`` in epoch seconds),
    ``line_numbers[i]`` the 1-based line of ``points[i]``, ``errors``
    ``[{"line": n, "field": None, "reason": str}]`` for unparsable lines,
    and ``skipped`` the samples whose value is NaN or ±Inf (Prometheus'
    "no value", e.g. a summary without observations), which cannot be stored.
    """
    points: list[dict] = []
    lines: list[int] = []
    errors: list[dict] = []
    skipped = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            name, labels, value, timestamp = parse_line(line)
        except ParseError as exc:
            errors.append({"line": number, "field": None, "reason": str(exc)})
            continue
        if not math.isfinite(value):
            skipped += 1
            continue
        point_service = service or labels.pop("service", None) or labels.pop("job", None)
        if service:
            labels.pop("service", None)
        if not point_service:
            errors.append(
                {"line": number, "field": "service", "reason": "no service: add ?service=… or a service or job label"}
            )
            continue
        point = {"service": point_service, "name": name, "value": value, "unit": unit_of(name), "tags": labels}
        if timestamp is not None:
            point["timestamp"] = timestamp / 1000
        points.append(point)
        lines.append(number)
    return points, lines, errors, skipped
