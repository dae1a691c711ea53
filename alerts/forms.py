"""Forms of the alerts pages: silences, maintenance windows and inhibition rules, like Alertmanager's.

Matchers are typed in Alertmanager's (amtool's) syntax everywhere, ``alertname="HighLatency",
service=~"pay.*"`` (``wedsync_ops.matchers.parse_matcher_text``), and stored as the JSON list
``[{"name", "op", "value"}]`` the services take. Times are typed in a named zone (the
organization's, or the portal's display zone for staff) with ``<input type="datetime-local">``,
and made aware in that zone. Forms only parse; ``alerts.silences`` validates and writes.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import forms
from django.core.exceptions import ValidationError

from wedsync_ops.matchers import matchers_text, parse_matcher_text, parse_matchers

WEEKDAYS = [(1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun")]
LOCAL_INPUT = "%Y-%m-%dT%H:%M"
MATCHER_HELP = (
    'Alertmanager syntax, comma-separated: alertname="HighCheckoutLatency", service=~"pay.*". '
    "Operators: = equals, != differs, =~ matches the regular expression, !~ does not match it."
)


class MatchersField(forms.CharField):
    """Alertmanager matcher text in, ``[{"name", "op", "value"}]`` out (validated: label names, RE2 regexes).

    Raises ValidationError with the place that cannot be read, e.g. ``cannot read a matcher at 'x=='``.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", MATCHER_HELP)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"class": "matchers-input", "spellcheck": "false", "autocomplete": "off"})
        )
        kwargs.setdefault("max_length", 4000)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return matchers_text(value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        if not text.strip():
            return []
        try:
            raw = parse_matcher_text(text, field="matchers")
            parse_matchers(raw, field="matchers")
        except ValidationError as exc:
            raise ValidationError("; ".join(m for msgs in exc.message_dict.values() for m in msgs)) from None
        return raw


class LocalDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` input read in the form's zone (``form.tz``), never the server's."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT)
    input_formats = [LOCAL_INPUT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]

    def to_python(self, value):
        if isinstance(value, dt.datetime):
            return value
        value = (value or "").strip()
        if not value:
            return None
        for fmt in self.input_formats:
            try:
                return dt.datetime.strptime(value, fmt)  # naive: made aware in the form's zone in clean()
            except ValueError:
                continue
        raise ValidationError("a date and time, e.g. 2026-06-13T14:05")


class ZonedForm(forms.Form):
    """A form whose local date-times are in ``tz`` (an IANA name; default UTC)."""

    def __init__(self, *args, tz: str = "UTC", now: dt.datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = zoneinfo.ZoneInfo(tz)
        self.now = now  # "now" for an empty start (the view's instant; default: the clock)
        for name, field in self.fields.items():
            if isinstance(field, LocalDateTimeField) and isinstance(self.initial.get(name), dt.datetime):
                self.initial[name] = self.initial[name].astimezone(self.tz).replace(tzinfo=None)

    def aware(self, value: dt.datetime | None) -> dt.datetime | None:
        """``value`` (naive, typed in ``tz``) as an aware datetime; aware values pass through."""
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=self.tz)


class SilenceForm(ZonedForm):
    """A silence: matchers from ``starts_at`` to ``ends_at`` (typed in the form's zone), and why."""

    matchers = MatchersField()
    starts_at = LocalDateTimeField(
        label="Starts", required=False, help_text="When the silence starts muting (empty: now)"
    )
    ends_at = LocalDateTimeField(label="Ends", required=False, help_text="When it stops; the alerts notify again after")
    hours = forms.FloatField(
        required=False,
        min_value=0.25,
        max_value=24 * 14,
        label="or for (hours)",
        help_text="Instead of an end: how long from the start, in hours (at most 14 days)",
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="Why: shown to the operations team and on every muted alert",
    )

    def clean(self):
        data = super().clean()
        from django.utils import timezone

        starts, ends = self.aware(data.get("starts_at")), self.aware(data.get("ends_at"))
        if starts is None and "starts_at" not in self.errors:
            starts = self.now or timezone.now()
        if ends is None and data.get("hours") and starts is not None:
            ends = starts + dt.timedelta(hours=data["hours"])
        if ends is None and not self.errors.get("ends_at") and not self.errors.get("hours"):
            self.add_error("ends_at", "give an end, or a number of hours")
        data["starts_at"], data["ends_at"] = starts, ends
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "must be after the start")
        if "matchers" in data and not data["matchers"]:
            self.add_error("matchers", 'at least one matcher, e.g. alertname="HighLatency"')
        return data


class MaintenanceForm(forms.Form):
    """A recurring maintenance window: matchers muted on the ticked weekdays between two local times."""

    name = forms.CharField(max_length=200, help_text="What is maintained, e.g. nightly database backup")
    matchers = MatchersField()
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple, help_text="Days the window opens"
    )
    start_time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), label="From")
    end_time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        label="Until",
        help_text="At or before the start: the window runs past midnight into the next day",
    )
    timezone = forms.CharField(max_length=64, initial="Europe/London", help_text="IANA time zone, e.g. Europe/London")
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)

    def clean_timezone(self):
        name = self.cleaned_data["timezone"].strip()
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError(f"unknown time zone {name!r}") from None
        return name


class InhibitionForm(forms.Form):
    """An inhibition rule: while an alert matching the source matchers is open, alerts matching the target
    matchers with the same values of the equal labels are muted."""

    name = forms.CharField(max_length=200, help_text="e.g. database down mutes its latency alerts")
    source_matchers = MatchersField(label="When an alert matching", help_text="The inhibiting alerts")
    matchers = MatchersField(label="mute alerts matching", help_text="The alerts it mutes")
    equal_labels = forms.CharField(
        required=False,
        max_length=500,
        label="with the same",
        help_text="Comma-separated label names both must share, e.g. service, organization",
    )
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)

    def clean_equal_labels(self):
        from wedsync_ops.matchers import LABEL_NAME

        names = [n.strip() for n in self.cleaned_data["equal_labels"].split(",") if n.strip()]
        bad = [n for n in names if not LABEL_NAME.match(n)]
        if bad:
            raise ValidationError(f"not a label name: {', '.join(bad)}")
        return names


class AlertFilterForm(forms.Form):
    """The filters of ``/ops/alerts/`` (and a vendor's alert list); every one optional."""

    STATES = [
        ("open", "open"),
        ("firing", "firing"),
        ("acknowledged", "acknowledged"),
        ("escalated", "escalated"),
        ("suppressed", "muted"),
        ("resolved", "resolved"),
        ("all", "all"),
    ]

    state = forms.ChoiceField(choices=STATES, required=False, initial="open")
    severity = forms.ChoiceField(required=False, choices=[("", "any")])
    organization = forms.CharField(required=False, max_length=100, help_text="Organization slug")
    source = forms.ChoiceField(required=False, choices=[("", "any")])
    matchers = MatchersField(
        required=False, label="Labels", help_text='Alertmanager syntax, e.g. service=~"pay.*", severity!="info"'
    )

    def __init__(self, *args, **kwargs):
        from alerts.models import AlertHistory
        from wedsync_ops.choices import AlertSeverity

        super().__init__(*args, **kwargs)
        self.fields["severity"].choices = [("", "any"), *[(v, v) for v in AlertSeverity.values]]
        self.fields["source"].choices = [("", "any"), *[(v, v) for v in AlertHistory.Source.values]]
