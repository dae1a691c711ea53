"""Silence pages: ``/ops/silences/…`` (staff) and ``/org/<slug>/alerts/silences/…`` (an organization's admins).

Silences have a start and an end, a live preview of the open alerts they would mute (``…/preview.json``,
read by ``static/js/silence-preview.js``), expire, and recreate from an expired one; maintenance windows and
inhibition rules have forms of their own, with weekday checkboxes. Views parse and check access; every write
goes through ``alerts.silences``. Another organization's silence answers 404. The alert pages they start from
("silence this") are ``alerts.ops_pages``.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from alerts.forms import InhibitionForm, MaintenanceForm, SilenceForm
from alerts.models import AlertHistory, SuppressionRule
from alerts.ops_pages import (
    DEFAULT_SILENCE_HOURS,
    PREVIEW_LIMIT,
    STAFF_TIME_ZONE,
    _uuid,
    _vendor,
)
from alerts.suppression import alert_label_set, matchers_from_labels, rule_state, silence_preview
from wedsync_ops.matchers import matchers_text, parse_matcher_text, parse_matchers
from wedsync_ops.tenancy.access import staff_required
from wedsync_ops.tenancy.models import Organization


def silence_initial(request, *, organization: Organization | None, now: dt.datetime) -> dict:
    """The new-silence form's initial values: from ``?alert=<id>`` (its labels), ``?incident=<id>`` (the labels
    its open alerts share), ``?from=<silence id>`` (recreate: its matchers and comment, a new start) or
    ``?matchers=`` text; the start is now and the end ``DEFAULT_SILENCE_HOURS`` later (the old duration when
    recreating). Ids the request may not see are ignored (nothing leaks)."""
    initial = {"starts_at": now, "ends_at": now + dt.timedelta(hours=DEFAULT_SILENCE_HOURS), "matchers": ""}
    scope = (
        AlertHistory.objects.all()
        if organization is None
        else AlertHistory.objects.filter(organization_id=organization.id)
    )
    if _uuid(request.GET.get("alert")):
        alert = scope.select_related("organization").filter(pk=_uuid(request.GET["alert"])).first()
        if alert is not None:
            initial["matchers"] = matchers_text(matchers_from_labels(alert_label_set(alert)))
            initial["comment"] = f"Silenced from alert {alert.title}"[:2000]
            initial["organization"] = alert.organization.slug if alert.organization_id else ""
    elif _uuid(request.GET.get("incident")):
        alerts = list(
            scope.select_related("organization").filter(
                incident_id=_uuid(request.GET["incident"]), status__in=AlertHistory.OPEN_STATUSES
            )
        )
        if alerts:
            common = dict(alert_label_set(alerts[0]))
            for a in alerts[1:]:
                other = alert_label_set(a)
                common = {k: v for k, v in common.items() if other.get(k) == v}
            initial["matchers"] = matchers_text(matchers_from_labels(common))
            initial["comment"] = f"Silenced from incident {alerts[0].incident_id}"
            initial["organization"] = alerts[0].organization.slug if alerts[0].organization_id else ""
    elif _uuid(request.GET.get("from")):
        rules = SuppressionRule.objects.filter(kind=SuppressionRule.Kind.SILENCE)
        if organization is not None:
            rules = rules.filter(organization_id=organization.id)
        old = rules.select_related("organization").filter(pk=_uuid(request.GET["from"])).first()
        if old is not None:
            initial["matchers"] = matchers_text(old.matchers)
            initial["comment"] = old.comment
            if old.starts_at and old.ends_at and old.ends_at > old.starts_at:
                initial["ends_at"] = now + (old.ends_at - old.starts_at)
            initial["organization"] = old.organization.slug if old.organization_id else ""
    elif request.GET.get("matchers"):
        initial["matchers"] = request.GET["matchers"][:4000]
        if organization is None and request.GET.get("organization"):
            initial["organization"] = request.GET["organization"][:100]
    return initial


def preview_json(request, *, organization: Organization | None):
    """The live preview: ``{"ok": true, "count": n, "more": bool, "alerts": [{"id", "title", "status",
    "severity", "organization", "url"}]}`` for ``?matchers=<amtool text>`` (and, for staff,
    ``organization=<slug>``), or HTTP 400 ``{"ok": false, "field": "matchers", "error": reason}``."""
    text = request.GET.get("matchers", "")
    try:
        raw = parse_matcher_text(text)
        matchers = parse_matchers(raw)
    except ValidationError as exc:
        reason = "; ".join(m for msgs in exc.message_dict.values() for m in msgs)
        return JsonResponse({"ok": False, "field": "matchers", "error": reason}, status=400)
    org_id = organization.id if organization is not None else None
    if organization is None and request.GET.get("organization"):
        org = Organization.objects.filter(slug=request.GET["organization"]).first()
        if org is None:
            return JsonResponse({"ok": False, "field": "organization", "error": "no such organization"}, status=400)
        org_id = org.id
    found = silence_preview(matchers=matchers, organization_id=org_id, limit=PREVIEW_LIMIT + 1)
    if organization is None:
        url = lambda a: reverse("ops-alert-detail", args=[a.pk])  # noqa: E731
    else:
        url = lambda a: reverse("org-alert-detail", args=[organization.slug, a.pk])  # noqa: E731
    return JsonResponse(
        {
            "ok": True,
            "count": min(len(found), PREVIEW_LIMIT),
            "more": len(found) > PREVIEW_LIMIT,
            "alerts": [
                {
                    "id": str(a.pk),
                    "title": a.title,
                    "status": a.status,
                    "severity": a.severity,
                    "organization": a.organization.name if a.organization_id else "unassigned",
                    "url": url(a),
                }
                for a in found[:PREVIEW_LIMIT]
            ],
        }
    )


@staff_required
@require_GET
def ops_silence_preview(request):
    """``/ops/silences/preview.json?matchers=…&organization=<slug>``: ``preview_json`` over every organization."""
    return preview_json(request, organization=None)


def _rules(organization: Organization | None, now: dt.datetime) -> dict:
    qs = SuppressionRule.objects.select_related("organization", "created_by").order_by("-created_at")
    if organization is not None:
        qs = qs.filter(organization_id=organization.id)
    out = {"silence": [], "maintenance": [], "inhibition": []}
    for rule in qs[:500]:
        rule.state = rule_state(rule, now)
        rule.matchers_text = matchers_text(rule.matchers)
        rule.source_text = matchers_text(rule.source_matchers) if rule.source_matchers else ""
        out[rule.kind].append(rule)
    for kind in out:
        out[kind].sort(key=lambda r: ({"active": 0, "pending": 1, "expired": 2}[r.state], -r.created_at.timestamp()))
    return out


def _create(kind: str, *, form, organization_id, request, now):
    from alerts.silences import suppression_rule_create

    data = form.cleaned_data
    common = {
        "kind": kind,
        "now": now,
        "organization_id": organization_id,
        "created_by": request.user,
        "comment": data.get("comment", ""),
    }
    if kind == SuppressionRule.Kind.SILENCE:
        return suppression_rule_create(
            matchers=data["matchers"],
            name=matchers_text(data["matchers"])[:200],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            **common,
        )
    if kind == SuppressionRule.Kind.MAINTENANCE:
        return suppression_rule_create(
            matchers=data["matchers"],
            name=data["name"],
            weekdays=data["weekdays"],
            start_time=data["start_time"],
            end_time=data["end_time"],
            timezone_name=data["timezone"],
            **common,
        )
    return suppression_rule_create(
        matchers=data["matchers"],
        source_matchers=data["source_matchers"],
        equal_labels=data["equal_labels"],
        name=data["name"],
        **common,
    )


FORMS = {"silence": SilenceForm, "maintenance": MaintenanceForm, "inhibition": InhibitionForm}
TITLES = {"silence": "New silence", "maintenance": "New maintenance window", "inhibition": "New inhibition rule"}


def _rule_form_page(
    request,
    kind: str,
    *,
    organization: Organization | None,
    tz: str,
    template: str,
    back: str,
    preview_url: str,
    extra: dict,
):
    """GET: the form (a silence prefilled by ``silence_initial``); POST: create through ``alerts.silences``
    and go back to the list with a confirmation, or re-render with everything typed and HTTP 400."""
    now = timezone.now()
    form_class = FORMS[kind]
    kwargs = {"tz": tz, "now": now} if kind == "silence" else {}
    chosen_org = organization
    status = 200
    if request.method == "POST":
        form = form_class(request.POST, **kwargs)
        org_problem = ""
        if organization is None and request.POST.get("organization"):
            chosen_org = Organization.objects.filter(slug=request.POST["organization"]).first()
            org_problem = "" if chosen_org else f"no organization {request.POST['organization']!r}"
        if form.is_valid() and not org_problem:
            try:
                rule = _create(
                    kind, form=form, organization_id=chosen_org.id if chosen_org else None, request=request, now=now
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request, f"{TITLES[kind][4:].capitalize()} created ({rule_state(rule, now)}): {rule.name}."
                )
                return redirect(back)
        if org_problem:
            form.add_error(None, f"organization: {org_problem}")
        status = 400
    else:
        initial = silence_initial(request, organization=organization, now=now) if kind == "silence" else {}
        if kind == "maintenance":
            initial["timezone"] = tz
        form = form_class(initial=initial, **kwargs)
        if initial.get("organization"):
            extra = {**extra, "chosen_org": initial["organization"]}
    organizations = list(Organization.objects.order_by("name").values("slug", "name")) if organization is None else []
    return render(
        request,
        template,
        {
            "form": form,
            "kind": kind,
            "title": TITLES[kind],
            "org": organization,
            "tz": tz,
            "back": back,
            "preview_url": preview_url,
            "organizations": organizations,
            "chosen_org": request.POST.get("organization", "")
            if request.method == "POST"
            else extra.get("chosen_org", ""),
            **extra,
        },
        status=status,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def ops_silences(request):
    """``/ops/silences/``: every silence, maintenance window and inhibition rule by state; POST
    ``action=expire`` (a silence) or ``action=disable`` (a window or inhibition rule) with ``rule``."""
    return _rules_page(request, organization=None, template="alerts/ops_silences.html", back=reverse("ops-silences"))


def _rules_page(request, *, organization, template, back, can_edit=True, extra=None):
    from alerts.silences import silence_expire, suppression_rule_disable

    now = timezone.now()
    if request.method == "POST":
        if not can_edit:
            raise Http404("No such page")
        qs = SuppressionRule.objects.all()
        if organization is not None:  # an organization's own rules only, never the platform's
            qs = qs.filter(organization_id=organization.id)
        rule = (
            qs.filter(pk=_uuid(request.POST.get("rule") or request.POST.get("silence"))).first()
            if _uuid(request.POST.get("rule") or request.POST.get("silence"))
            else None
        )
        if rule is None:
            raise Http404("No such rule")
        if request.POST.get("action") == "expire" and rule.kind == SuppressionRule.Kind.SILENCE:
            silence_expire(silence=rule, now=now)
            messages.success(request, f"Silence {rule.name!r} expired; its alerts notify again.")
        elif request.POST.get("action") == "disable" and rule.kind != SuppressionRule.Kind.SILENCE:
            suppression_rule_disable(rule=rule, now=now)
            messages.success(request, f"{rule.get_kind_display()} {rule.name!r} disabled.")
        else:
            messages.error(request, "action: expire a silence, disable a maintenance window or inhibition rule")
            return render(
                request,
                template,
                {
                    "rules": _rules(organization, now),
                    "org": organization,
                    "can_edit": can_edit,
                    "now": now,
                    **(extra or {}),
                },
                status=400,
            )
        return redirect(back)
    return render(
        request,
        template,
        {"rules": _rules(organization, now), "org": organization, "can_edit": can_edit, "now": now, **(extra or {})},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def ops_rule_new(request, kind: str):
    """``/ops/silences/new/`` (``?alert=``, ``?incident=``, ``?from=``, ``?matchers=``),
    ``/ops/maintenance/new/``, ``/ops/inhibitions/new/``: the forms; times typed in the display zone."""
    if kind not in FORMS:
        raise Http404("No such form")
    return _rule_form_page(
        request,
        kind,
        organization=None,
        tz=STAFF_TIME_ZONE,
        template="alerts/rule_form.html",
        back=reverse("ops-silences"),
        preview_url=reverse("ops-silence-preview"),
        extra={},
    )


# --- vendors --------------------------------------------------------------------------------------


@require_GET
def org_silence_preview(request, slug: str):
    """``/org/<slug>/alerts/silences/preview.json?matchers=…``: the preview over this organization's alerts."""
    org, _ = _vendor(request, slug)
    return preview_json(request, organization=org)


@require_http_methods(["GET", "POST"])
def org_silence_new(request, slug: str, kind: str = "silence"):
    """``/org/<slug>/alerts/silences/new/``, ``…/maintenance/new/``, ``…/inhibitions/new/``: an admin's new
    silence (times in the organization's zone), maintenance window or inhibition rule, scoped to the
    organization's own alerts."""
    if kind not in FORMS:
        raise Http404("No such form")
    org, can_edit = _vendor(request, slug)
    if not can_edit:
        raise Http404("No such page")
    return _rule_form_page(
        request,
        kind,
        organization=org,
        tz=org.timezone,
        template="alerts/rule_form.html",
        back=reverse("alerts-org-silences", args=[org.slug]),
        preview_url=reverse("alerts-org-silence-preview", args=[org.slug]),
        extra={},
    )
