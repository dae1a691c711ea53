"""Forms of the on-call pages: they parse; the services validate and write (their errors come back per field)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from .models import ContactMethod, Method, Rotation

WEEKDAYS = [(1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun")]


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, field by field (unknown fields as form errors)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for e in errors:
                form.add_error(field if field in form.fields else None, e.messages[0] if e.messages else str(e))
    else:
        form.add_error(None, "; ".join(error.messages))


class ScheduleForm(forms.Form):
    name = forms.CharField(max_length=120)
    timezone = forms.CharField(max_length=64, initial="Europe/London", help_text="IANA name, e.g. Europe/London")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    enabled = forms.BooleanField(required=False, initial=True)


class RotationForm(forms.Form):
    name = forms.CharField(max_length=120)
    position = forms.IntegerField(min_value=1, max_value=99, initial=1, help_text="Higher layers win")
    participants = forms.CharField(max_length=1000, help_text="Usernames in turn order, separated by commas")
    starts_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    handoff_time = forms.TimeField(initial=dt.time(9), widget=forms.TimeInput(attrs={"type": "time"}))
    period_unit = forms.ChoiceField(choices=Rotation.Unit.choices, initial="week")
    period_count = forms.IntegerField(min_value=1, max_value=52, initial=1)
    days = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every day",
    )
    active_from = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    active_until = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    wedding_day_only = forms.BooleanField(required=False, label="Wedding days only (Saturdays and wedding days)")
    ends_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, eligible=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.eligible = eligible

    def clean_participants(self) -> list:
        names = [n.strip() for n in self.cleaned_data["participants"].split(",") if n.strip()]
        users = {
            u.get_username(): u
            for u in (self.eligible if self.eligible is not None else get_user_model().objects.none()).filter(
                username__in=names
            )
        }
        unknown = [n for n in names if n not in users]
        if unknown:
            raise ValidationError(f"not someone who can be on call here: {', '.join(unknown)}")
        return [users[n] for n in names]


class OverrideForm(forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.none(), to_field_name="username")
    starts_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), help_text="In the schedule's time zone"
    )
    ends_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, eligible=None, tz: zoneinfo.ZoneInfo | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if eligible is not None:
            self.fields["user"].queryset = eligible
        self.tz = tz or dt.UTC

    def _local(self, name):
        value = self.cleaned_data.get(name)
        if value is None:
            return None
        return value.replace(tzinfo=None).replace(tzinfo=self.tz)  # the wall-clock time typed, in the schedule's zone

    def clean(self):
        data = super().clean()
        data["starts_at"], data["ends_at"] = self._local("starts_at"), self._local("ends_at")
        return data


class ContactMethodForm(forms.Form):
    kind = forms.ChoiceField(choices=Method.choices)
    address = forms.CharField(max_length=254, help_text="Email, +E.164 number, or Slack member ID (U…)")
    label = forms.CharField(max_length=60, required=False)


class RuleForm(forms.Form):
    contact_method = forms.ModelChoiceField(queryset=ContactMethod.objects.none())
    delay_minutes = forms.IntegerField(min_value=0, max_value=120, initial=0, help_text="0: at once")
    wedding_day = forms.BooleanField(required=False, label="Wedding-day list")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["contact_method"].queryset = ContactMethod.objects.filter(user=user)
