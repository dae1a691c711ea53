"""Vendor pages of the alerts app: ``/org/<slug>/alerts/rules/`` (rules and their open alerts).

Access goes through ``wedsync_ops.pages.access.get_organization_for_user``:
another organization's slug answers 404 like an unknown one. Every member
sees the organization's rules and the open alerts with the threshold that
applied and why; owners and admins (and staff) may create rules and edit
them (``POST``), through ``alerts.services.alert_rule_create``/``alert_rule_update``.
A refused change re-renders the page with HTTP 400 naming the field.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from alerts.models import AlertHistory, AlertRule
from alerts.services import alert_rule_create, alert_rule_update
from wedsync_ops.pages.access import get_organization_for_user, is_staff_request
from wedsync_ops.tenancy.models import UserProfile

FORM_FIELDS = (
    "name", "alert_type", "service", "metric_name", "aggregation", "comparison", "threshold",
    "wedding_day_threshold", "wedding_season_adjustment", "window_minutes", "for_seconds",
    "wedding_day_for_seconds", "severity", "priority", "runbook_url", "enabled",
)


class RuleForm(forms.ModelForm):
    """The editable fields of a rule an organization admin may set."""

    runbook_url = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = AlertRule
        fields = FORM_FIELDS


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
        .select_related("rule").order_by("-starts_at")[:50],
        "form": form,
        "editing": rule,
        "can_edit": can_edit,
    }
    return render(request, "alerts/organization_rules.html", context, status=status)
