"""Alertmanager's label matchers, shared by silences (``alerts``) and routing (``notifications``).

Semantics follow Alertmanager (``pkg/labels/matcher.go``):

- a matcher is ``{"name": label, "op": op, "value": str}`` with ``op`` one of
  ``=``, ``!=``, ``=~``, ``!~``;
- regexes are anchored: ``=~ "api|web"`` is ``^(?:api|web)$``, so it does not
  match ``"api-2"``;
- a label the alert does not have has the value ``""``: ``env=""`` matches an
  alert without ``env``, ``env!="prod"`` too, and ``env=~".*"`` matches all;
- a label set is matched when every matcher matches (an empty list matches all).

The text form is amtool's (``alertname="HighLatency", service=~"pay.*"``,
``parse_matcher_text``).

Regexes run on RE2 (google-re2), the engine whose syntax Go's ``regexp`` and so
Alertmanager use: matching takes time linear in the label value whatever the
pattern (``(a+)+b`` is as fast as ``ab``), so a vendor's silence cannot stall the
inbound webhook's transaction. Patterns RE2 does not accept (backreferences,
lookaround) are refused naming the field, as are patterns longer than
``MAX_PATTERN_LENGTH`` characters or compiling past RE2's memory budget. As in
Go, ``.`` does not match a newline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import re2
from django.core.exceptions import ValidationError

OPS = ("=", "!=", "=~", "!~")
MAX_PATTERN_LENGTH = 1024  # characters of one =~ or !~ value
LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Matcher:
    """One label matcher. ``value`` is a regex for ``=~``/``!~`` (anchored when compiled)."""

    name: str
    op: str
    value: str

    def matches(self, labels: dict) -> bool:
        """Whether ``labels`` (``{name: value}``) satisfy this matcher; a missing label is ``""``."""
        actual = str(labels.get(self.name, ""))
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        try:
            found = _anchored(self.value).match(actual) is not None
        except re2.error:  # stored before RE2 was the engine and not RE2 syntax: matches nothing, either way
            return False
        return found if self.op == "=~" else not found

    @property
    def is_regex(self) -> bool:
        """Alertmanager API v2's ``isRegex``."""
        return self.op in ("=~", "!~")

    @property
    def is_equal(self) -> bool:
        """Alertmanager API v2's ``isEqual`` (False for ``!=`` and ``!~``)."""
        return self.op in ("=", "=~")

    def as_dict(self) -> dict[str, str]:
        """``{"name", "op", "value"}``, the stored JSON form."""
        return {"name": self.name, "op": self.op, "value": self.value}

    def __str__(self):
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is the caller's 400, not a line on stderr
    return options


_OPTIONS = _re2_options()


@lru_cache(maxsize=1024)
def _anchored(pattern: str):
    """The compiled RE2 regex ``^(?:pattern)$`` (Alertmanager anchors every matcher); raises ``re2.error``."""
    return re2.compile(f"^(?:{pattern})$", _OPTIONS)


def parse_matchers(raw, *, field: str = "matchers") -> list[Matcher]:
    """Validate a JSON list of matchers and return them.

    Each item must be ``{"name": label name, "op": one of = != =~ !~,
    "value": str}``; a regex must compile. Raises ValidationError keyed by
    ``field`` naming the item and the reason, e.g. ``matchers[1].op``.
    """
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise ValidationError({field: f"must be a list of matchers, got {type(raw).__name__}"})
    result = []
    for index, item in enumerate(raw):
        where = f"{field}[{index}]"
        if not isinstance(item, dict):
            raise ValidationError({field: f"{where}: must be an object with name, op and value"})
        name, op, value = item.get("name"), item.get("op", "="), item.get("value", "")
        if not isinstance(name, str) or not LABEL_NAME.match(name):
            raise ValidationError({field: f"{where}.name: must be a label name ([A-Za-z_][A-Za-z0-9_]*)"})
        if op not in OPS:
            raise ValidationError({field: f"{where}.op: must be one of {', '.join(OPS)}, got {op!r}"})
        if not isinstance(value, str):
            raise ValidationError({field: f"{where}.value: must be a string"})
        if op in ("=~", "!~"):
            if len(value) > MAX_PATTERN_LENGTH:
                raise ValidationError(
                    {field: f"{where}.value: a regex of at most {MAX_PATTERN_LENGTH} characters (got {len(value)})"}
                )
            try:
                _anchored(value)
            except re2.error as exc:
                detail = (
                    exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
                )
                raise ValidationError(
                    {field: f"{where}.value: invalid regex for RE2, Alertmanager's syntax ({detail})"}
                ) from None
        result.append(Matcher(name=name, op=op, value=value))
    return result


def matchers_match(matchers: list[Matcher], labels: dict) -> bool:
    """All matchers match ``labels`` (an empty list matches everything)."""
    return all(m.matches(labels) for m in matchers)


MATCHER_RE = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)')


def parse_matcher_text(text: str, *, field: str = "matchers") -> list[dict]:
    """Parse amtool-style matchers, ``alertname="HighLatency", service=~"pay.*"``, into matcher dicts.

    Surrounding braces (``{…}``, PromQL style) are allowed. Returns
    ``[{"name", "op", "value"}]`` for ``parse_matchers``. Raises
    ValidationError (key ``field``) on text that is not a comma-separated
    list of matchers, or on an empty list.
    """
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    matchers, pos = [], 0
    while pos < len(text):
        m = MATCHER_RE.match(text, pos)
        if m is None or m.end() == pos:
            raise ValidationError({field: [f"cannot read a matcher at {text[pos : pos + 30]!r}"]})
        value = m.group(3) if m.group(3) is not None else m.group(4)
        matchers.append({"name": m.group(1), "op": m.group(2), "value": re.sub(r"\\(.)", r"\1", value)})
        pos = m.end()
    if not matchers:
        raise ValidationError({field: ['at least one matcher, e.g. alertname="HighLatency"']})
    return matchers


def matchers_text(raw) -> str:
    """The amtool text of stored matchers (``a="b", c=~"d"``); ``"(invalid)"`` when they do not parse."""
    try:
        return ", ".join(str(m) for m in parse_matchers(raw))
    except ValidationError:
        return "(invalid)"
