"""Vendor pages of the alerts app: rules and their open alerts, silences and notification channels.

``/org/<slug>/alerts/rules/``, ``/org/<slug>/alerts/silences/``, ``/org/<slug>/alerts/channels/``.

Access goes through ``wedsync_ops.tenancy.access.get_organization_for_user``:
another organization's slug answers 404 like an unknown one. Every member
sees the organization's rules and the open alerts with the threshold that
applied and why; owners and admins (and staff) may create rules and edit
them (``POST``), through ``alerts.rules.alert_rule_create``/``alert_rule_update``.
A refused change re-renders the page with HTTP 400 naming the field.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from alerts.models import AlertHistory, AlertRule
from alerts.rules import alert_rule_create, alert_rule_update
from wedsync_ops.tenancy.access import get_organization_for_user, is_staff_request
from wedsync_ops.tenancy.models import UserProfile

FORM_FIELDS = (
    "name",
    "alert_type",
    "service",
    "metric_name",
    "pattern",
    "aggregation",
    "comparison",
    "threshold",
    "wedding_day_threshold",
    "wedding_season_adjustment",
    "window_minutes",
    "for_seconds",
    "wedding_day_for_seconds",
    "severity",
    "priority",
    "runbook_url",
    "enabled",
)


class RuleForm(forms.ModelForm):
    """The editable fields of a rule an organization admin may set."""

    runbook_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="Runbook link",
        help_text="Where the on-call person reads what to do (https)",
    )
    metric_name = forms.CharField(
        required=False,
        max_length=200,
        label="Metric",
        help_text="The metric watched, e.g. http.request.duration_ms; not needed for error-pattern rules",
    )

    class Meta:
        model = AlertRule
        fields = FORM_FIELDS
        labels = {
            "alert_type": "Kind of rule",
            "pattern": "Error message pattern",
            "aggregation": "Measure",
            "comparison": "Fires when the measure is",
            "threshold": "Threshold",
            "wedding_day_threshold": "Wedding-day threshold",
            "wedding_season_adjustment": "Stricter in wedding season",
            "window_minutes": "Window (minutes)",
            "for_seconds": "Must last (seconds)",
            "wedding_day_for_seconds": "Must last on wedding days (seconds)",
        }
        help_texts = {
            "service": "Leave empty to watch every service",
            "pattern": "Error-pattern rules only: a regular expression matched against error messages "
            "(case-insensitive)",
            "threshold": "In the metric's unit (milliseconds for latencies)",
            "wedding_day_threshold": "Used instead on wedding days and Saturdays; empty: the usual threshold",
            "wedding_season_adjustment": "Without a wedding-day threshold: 20% stricter on wedding days from May "
            "to October",
            "window_minutes": "How much recent data each check looks at",
            "for_seconds": "How long the threshold must be crossed before it fires; 0: at once",
            "wedding_day_for_seconds": "Empty: half the usual time (30 s by default)",
            "severity": "critical and emergency open an incident on wedding days",
        }


def _can_edit(request, org) -> bool:
    if is_staff_request(request):
        return True
    role = UserProfile.objects.filter(user_id=request.user.pk, organization=org).values_list("role", flat=True).first()
    return role in (UserProfile.Role.OWNER, UserProfile.Role.ADMIN)


@require_http_methods(["GET", "POST"])
def organization_rules(request, slug: str, rule_id: uuid.UUID | None = None):
    """List the organization's rules and open alerts; create (``POST`` without ``rule_id``) or edit one."""
    org = get_organization_for_user(request, slug)
    rule = None
    if rule_id is not None:
        rule = AlertRule.objects.filter(pk=rule_id, organization=org).first()
        if rule is None:
            raise Http404("No such rule")
    can_edit = _can_edit(request, org)
    form = RuleForm(instance=rule) if can_edit else None
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise Http404("No such page")
        form = RuleForm(request.POST, instance=rule)
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in FORM_FIELDS}
            try:
                with transaction.atomic():
                    if rule is None:
                        saved = alert_rule_create(organization_id=org.id, **data)
                    else:
                        saved = alert_rule_update(rule=AlertRule.objects.get(pk=rule.pk), **data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, f"Saved rule {saved.name!r}.")
                return redirect("alerts-org-rules", slug=org.slug)
        status = 400
    context = {
        "org": org,
        "rules": AlertRule.objects.filter(organization=org).order_by("name"),
        "open_alerts": AlertHistory.objects.filter(organization=org, status__in=AlertHistory.OPEN_STATUSES)
        .select_related("rule")
        .order_by("-starts_at")[:50],
        "form": form,
        "editing": rule,
        "can_edit": can_edit,
    }
    return render(request, "alerts/organization_rules.html", context, status=status)


# --- silences ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def organization_silences(request, slug: str):
    """``/org/<slug>/alerts/silences/``: the organization's silences by state; admins create, expire and
    recreate them.

    A silence mutes matching alerts of this organization only (recorded, not notified). ``POST
    action=create`` with ``matchers`` (Alertmanager syntax), ``starts_at``/``ends_at`` (the organization's
    local time; or ``hours`` instead of an end) and ``comment``; ``action=expire`` with ``silence``.
    Writes go through ``alerts.silences``. Bad input answers 400 naming the field, with everything typed kept.
    """
    from django.urls import reverse
    from django.utils import timezone

    from alerts.forms import SilenceForm
    from alerts.models import SuppressionRule
    from alerts.silence_pages import _create, _rules, _rules_page, silence_initial

    org = get_organization_for_user(request, slug)
    can_edit = _can_edit(request, org)
    back = reverse("alerts-org-silences", args=[org.slug])
    extra = {"preview_url": reverse("alerts-org-silence-preview", args=[org.slug]), "tz": org.timezone}
    if request.method == "POST" and request.POST.get("action") == "create":
        if not can_edit:
            raise Http404("No such page")
        now = timezone.now()
        form = SilenceForm(request.POST, tz=org.timezone, now=now)
        if form.is_valid():
            try:
                _create(SuppressionRule.Kind.SILENCE, form=form, organization_id=org.id, request=request, now=now)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, "Silence created.")
                return redirect(back)
        return render(
            request,
            "alerts/organization_silences.html",
            {"rules": _rules(org, now), "org": org, "can_edit": can_edit, "now": now, "form": form, **extra},
            status=400,
        )
    if can_edit:
        extra["form"] = SilenceForm(
            initial=silence_initial(request, organization=org, now=timezone.now()), tz=org.timezone
        )
    return _rules_page(
        request,
        organization=org,
        template="alerts/organization_silences.html",
        back=back,
        can_edit=can_edit,
        extra=extra,
    )


# --- channels ---------------------------------------------------------------------

VENDOR_CHANNEL_KINDS = (
    ("webhook", "Webhook (JSON POST, signed)"),
    ("slack", "Slack incoming webhook"),
    ("email", "Email"),
)


class ChannelForm(forms.Form):
    """A notification channel an organization admin adds: where their alerts and incidents go."""

    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=VENDOR_CHANNEL_KINDS)
    target = forms.CharField(
        max_length=500, help_text="Webhook or Slack: an https URL. Email: one or more addresses, comma-separated."
    )
    secret = forms.CharField(
        max_length=200, required=False, help_text="Webhook only: signs each request (X-WedSync-Signature, HMAC-SHA256)"
    )

    def clean(self):
        data = super().clean()
        kind, target = data.get("kind"), (data.get("target") or "").strip()
        if not kind or not target:
            return data
        if kind == "email":
            addresses = [a.strip() for a in target.split(",") if a.strip()]
            for address in addresses:
                try:
                    validate_email(address)
                except ValidationError:
                    self.add_error("target", f"{address!r} is not an email address")
            data["config"] = {"to": addresses}
        else:
            problem = public_https_url_problem(target)
            if problem:
                self.add_error("target", problem)
            data["config"] = {"url": target} if kind == "webhook" else {"webhook_url": target}
            if kind == "webhook" and data.get("secret"):
                data["config"]["secret"] = data["secret"]
        return data


def public_https_url_problem(url: str) -> str:
    """Why ``url`` may not be a vendor's notification target, or ``""``.

    The outbound client's own check (``wedsync_ops.outbound.outbound_url_problem``, untrusted: a
    vendor typed it), plus ``https`` only: what this form accepts, the delivery worker sends to. The
    host is resolved now too; the client checks it again at every request.
    """
    from wedsync_ops.outbound import outbound_url_problem

    problem = outbound_url_problem(url, trusted=False, require_https=True)
    return problem if problem.startswith("must") else (f"this URL {problem}" if problem else "")


def _masked_target(channel) -> str:
    """Where a channel sends, without its secrets: addresses, or ``scheme://host/…`` and the secret's "•••• last 4"."""
    from wedsync_ops.crypto import mask

    config = channel.config or {}
    if "to" in config:
        to = config["to"]
        return ", ".join(to) if isinstance(to, list) else str(to)
    url = config.get("url") or config.get("webhook_url") or ""
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.hostname}/… ({mask(url)})" if parts.hostname else ""
    if config.get("secret"):
        shown += f", signed with {mask(config['secret'])}"
    return shown


def _replace_secrets(request, channel) -> str:
    """The vendor's "replace" action: a new URL and/or signing secret for a webhook or Slack channel.

    Returns ``""`` when saved, else ``"<field>: <reason>"``. Blank fields keep what is stored.
    """
    from notifications.services import channel_update_config

    target = (request.POST.get("target") or "").strip()
    secret = (request.POST.get("secret") or "").strip()
    if channel.kind not in ("webhook", "slack"):
        return "action: only webhook and Slack channels have a URL or secret to replace"
    if not target and not secret:
        return "target: give a new URL or a new secret"
    config = dict(channel.config or {})
    if target:
        problem = public_https_url_problem(target)
        if problem:
            return f"target: {problem}"
        config["url" if channel.kind == "webhook" else "webhook_url"] = target[:500]
    if secret:
        if channel.kind != "webhook" or len(secret) > 200:
            return "secret: only webhook channels are signed, with a secret of at most 200 characters"
        config["secret"] = secret
    channel_update_config(channel=channel, config=config)
    return ""


@require_http_methods(["GET", "POST"])
def organization_channels(request, slug: str):
    """``/org/<slug>/alerts/channels/``: where the organization's notifications go, and whether they arrive.

    Each channel shows its last delivery's outcome and time, failures in the last 24 h, what it holds
    while disabled, and whether it works (a success within 7 days). Owners and admins ``POST``
    ``action=create`` (name, kind, target, secret), ``action=toggle``, ``action=delete`` or
    ``action=test`` (a test notification now, rate-limited) or ``action=replace`` (a new ``target`` URL
    and/or ``secret``; blank keeps the stored one) with ``channel``. Targets are shown masked
    (no secrets, no URL paths) and failures by status code only, never the receiver's answer. Bad input
    answers 400 naming the field; another organization's channel 404.
    """
    from django.utils import timezone

    from notifications.models import NotificationChannel
    from notifications.services import channel_create, channel_delete, channel_disable, channel_enable, channel_test

    org = get_organization_for_user(request, slug)
    can_edit = _can_edit(request, org)
    form = ChannelForm() if can_edit else None
    status = 200
    now = timezone.now()
    if request.method == "POST":
        if not can_edit:
            raise Http404("No such page")
        action = request.POST.get("action")
        if action in ("toggle", "delete", "test", "replace"):
            channel = NotificationChannel.objects.filter(
                pk=_uuid_or_none(request.POST.get("channel")), organization=org
            ).first()
            if channel is None:
                raise Http404("No such channel")
            if action == "replace":
                problem = _replace_secrets(request, channel)
                if problem:
                    messages.error(request, problem)
                    return _channels_page(request, org, can_edit, ChannelForm(), now, status=400)
                messages.success(request, f"Channel {channel.name!r} updated; send a test to check it.")
            elif action == "delete":
                channel_delete(channel=channel)
                messages.success(request, f"Channel {channel.name!r} deleted.")
            elif action == "test":
                ok, message = channel_test(channel=channel, now=now, organization_slug=org.slug, rate_limited=True)
                (messages.success if ok else messages.error)(request, message)
            elif channel.enabled:
                channel_disable(channel=channel, reason=f"disabled by {request.user.get_username()}", now=now)
                messages.success(request, f"Channel {channel.name!r} disabled; its notifications are held.")
            else:
                counts = channel_enable(channel=channel, now=now)
                messages.success(
                    request, f"Channel {channel.name!r} enabled; {counts['released']} held notification(s) sent."
                )
            return redirect("alerts-org-channels", slug=org.slug)
        form = ChannelForm(request.POST)
        if form.is_valid():
            channel_create(
                organization_id=org.id,
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                config=form.cleaned_data["config"],
            )
            messages.success(request, "Channel added. Send it a test notification to check it works.")
            return redirect("alerts-org-channels", slug=org.slug)
        status = 400
    return _channels_page(request, org, can_edit, form, now, status=status)


def _channels_page(request, org, can_edit, form, now, *, status=200):
    from notifications.models import NotificationChannel
    from notifications.selectors import channel_health

    channels = list(NotificationChannel.objects.filter(organization=org).order_by("name"))
    rows = [{"health": h, "target": _masked_target(h.channel)} for h in channel_health(channels=channels, now=now)]
    return render(
        request,
        "alerts/organization_channels.html",
        {"org": org, "channels": rows, "form": form, "can_edit": can_edit},
        status=status,
    )


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
