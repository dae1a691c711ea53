"""Alert and silence pages: ``/ops/alerts/``, ``/ops/alerts/<id>/``, ``/ops/silences/…`` (staff) and the same
for one organization under ``/org/<slug>/alerts/…`` (its members; admins change things).

Alertmanager's model: alerts filtered by state, severity, organization, source and label matchers
(amtool syntax), grouped by group key; an alert's page shows its labels, annotations, links, timeline,
the threshold that applied and why, and "silence this" prefilled with its labels. Silences have a start
and an end, a live preview of the open alerts they would mute (``…/preview.json``, read by
``static/js/silence-preview.js``), expire, and recreate from an expired one; maintenance windows and
inhibition rules have forms of their own (staff). Views parse and check access; every write goes
through ``alerts.services`` and ``alerts.silences``. Another organization's alert or silence answers 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from alerts.forms import AlertFilterForm, InhibitionForm, MaintenanceForm, SilenceForm
from alerts.models import AlertHistory, SuppressionRule
from alerts.suppression import alert_label_set, matchers_from_labels, rule_state, silence_preview
from wedsync_ops.matchers import matchers_match, matchers_text, parse_matcher_text, parse_matchers
from wedsync_ops.tenancy.access import get_organization_for_user, safe_next, staff_required
from wedsync_ops.tenancy.models import Organization

#: The zone staff type times in (the portal's display zone; vendors use their organization's).
STAFF_TIME_ZONE = "Europe/London"
LIST_LIMIT = 300  # alerts a list shows
SCAN_LIMIT = 5000  # alerts a label filter looks at, newest first
PREVIEW_LIMIT = 50
DEFAULT_SILENCE_HOURS = 2


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- alerts ---------------------------------------------------------------------------------------


@dataclass
class AlertGroup:
    """Alerts sharing a group key (Alertmanager's grouping): ``key`` ("" for ungrouped) and ``alerts``."""

    key: str
    alerts: list


def alerts_filtered(*, data: dict, organization: Organization | None) -> list[AlertGroup]:
    """Alerts matching ``AlertFilterForm.cleaned_data`` (``organization`` fixed: that organization's only),
    newest first, at most ``LIST_LIMIT``, grouped by group key (groups by their newest alert).

    Label matchers run in Python over at most ``SCAN_LIMIT`` candidates (``alert_label_set``: labels plus
    severity, priority, organization). Two queries at most.
    """
    qs = AlertHistory.objects.select_related("organization", "incident")
    state = data.get("state") or "open"
    if state == "open":
        qs = qs.filter(status__in=AlertHistory.OPEN_STATUSES)
    elif state != "all":
        qs = qs.filter(status=state)
    if data.get("severity"):
        qs = qs.filter(severity=data["severity"])
    if data.get("source"):
        qs = qs.filter(source=data["source"])
    if organization is not None:
        qs = qs.filter(organization_id=organization.id)
    elif data.get("organization"):
        slug = data["organization"]
        qs = qs.filter(organization__isnull=True) if slug == "unassigned" else qs.filter(organization__slug=slug)
    matchers = parse_matchers(data.get("matchers") or [])
    rows = []
    for alert in qs.order_by("-starts_at")[:SCAN_LIMIT] if matchers else qs.order_by("-starts_at")[:LIST_LIMIT]:
        if matchers and not matchers_match(matchers, alert_label_set(alert)):
            continue
        rows.append(alert)
        if len(rows) >= LIST_LIMIT:
            break
    groups: dict[str, AlertGroup] = {}
    for alert in rows:
        groups.setdefault(alert.group_key or "", AlertGroup(alert.group_key or "", [])).alerts.append(alert)
    return list(groups.values())


def _alert_list(request, *, organization: Organization | None, template: str, extra: dict):
    form = AlertFilterForm(request.GET or None, initial={"state": "open"})
    status = 200
    if request.GET and not form.is_valid():
        groups, status = [], 400
    else:
        data = form.cleaned_data if request.GET else {"state": "open"}
        if (
            organization is None
            and data.get("organization")
            and data["organization"] != "unassigned"
            and not Organization.objects.filter(slug=data["organization"]).exists()
        ):
            form.add_error("organization", f"no organization {data['organization']!r}")
            groups, status = [], 400
        else:
            groups = alerts_filtered(data=data, organization=organization)
    organizations = list(Organization.objects.order_by("name").values("slug", "name")) if organization is None else []
    return render(
        request,
        template,
        {
            "form": form,
            "groups": groups,
            "count": sum(len(g.alerts) for g in groups),
            "now": timezone.now(),
            "organizations": organizations,
            "org": organization,
            "tz": organization.timezone if organization else "",
            **extra,
        },
        status=status,
    )


@staff_required
@require_GET
def ops_alert_list(request):
    """``/ops/alerts/?state=&severity=&organization=<slug>|unassigned&source=&matchers=``: every organization's
    alerts, grouped by group key; bad filters answer 400 naming the field."""
    return _alert_list(request, organization=None, template="alerts/ops_alerts.html", extra={})


def get_alert_for_user(request, pk, *, organization: Organization | None) -> AlertHistory:
    """The alert ``pk`` if the request may see it: staff any (``organization`` None), a vendor page its own
    organization's only. Anything else, or an unknown id, raises Http404 (RLS filters again)."""
    qs = AlertHistory.objects.select_related(
        "organization", "incident", "rule", "suppressed_by", "acknowledged_by", "integration"
    )
    if organization is not None:
        qs = qs.filter(organization_id=organization.id)
    alert = qs.filter(pk=_uuid(pk)).first() if _uuid(pk) else None
    if alert is None:
        raise Http404("No such alert")
    return alert


URL_KEYS = (
    "dashboard",
    "dashboard_url",
    "dashboardURL",
    "panel_url",
    "panelURL",
    "silence_url",
    "silenceURL",
    "runbook_url",
    "runbook",
    "grafana_url",
)


LINK_NAMES = {
    "dashboardURL": "dashboard (Grafana)",
    "panelURL": "panel (Grafana)",
    "silenceURL": "silence in Grafana",
    "runbook_url": "runbook",
    "dashboard_url": "dashboard",
    "panel_url": "panel",
    "silence_url": "silence",
}


def alert_links(alert: AlertHistory) -> list[tuple[str, str]]:
    """``[(label, url)]`` the alert's source gave: its generator (the rule's graph), http(s) URLs among the
    annotations (Grafana's dashboard, panel and silence URLs, ``runbook_url``), and the rule's runbook."""
    links = []
    if alert.generator_url:
        links.append(("source (generator)", alert.generator_url))
    for key, value in sorted((alert.annotations or {}).items()):
        if (
            isinstance(value, str)
            and value.startswith(("https://", "http://"))
            and (key in URL_KEYS or key.lower().endswith(("url", "_link")))
        ):
            links.append((LINK_NAMES.get(key, key.replace("_", " ")), value))
    if alert.rule_id and alert.rule and alert.rule.runbook_url:
        links.append(("rule's runbook", alert.rule.runbook_url))
    return links


def alert_timeline(alert: AlertHistory) -> list[dict]:
    """The alert's life, oldest first: ``[{"at": datetime, "what": str}]`` (fired, first seen, muted,
    acknowledged, resolved, and every notification about it with its outcome). One query (deliveries)."""
    from notifications.models import NotificationDelivery

    events = [{"at": alert.starts_at, "what": "started (its source's startsAt)"}]
    if alert.created_at and abs((alert.created_at - alert.starts_at).total_seconds()) > 1:
        events.append({"at": alert.created_at, "what": "first received by the portal"})
    if alert.suppression_reason:
        events.append({"at": alert.last_received_at, "what": f"muted: {alert.suppression_reason}"})
    if alert.acknowledged_at:
        who = alert.acknowledged_by.get_username() if alert.acknowledged_by else "the system"
        events.append({"at": alert.acknowledged_at, "what": f"acknowledged by {who}"})
    if alert.resolved_at:
        how = "resolved in the portal" if alert.resolved_in_portal else "resolved by its source"
        events.append({"at": alert.resolved_at, "what": how})
    deliveries = NotificationDelivery.objects.filter(alert_id=alert.pk).select_related("channel")
    for d in deliveries.order_by("created_at")[:50]:
        where = d.channel.name if d.channel_id and d.channel else (d.target_label or "a person")
        events.append({"at": d.created_at, "what": f"{d.event.replace('.', ' ')} to {where}: {d.status}"})
    events.sort(key=lambda e: e["at"])
    return events


def _alert_detail(request, pk, *, organization: Organization | None, can_edit: bool, template: str, extra: dict):
    from alerts.services import alert_acknowledge, alert_resolve

    alert = get_alert_for_user(request, pk, organization=organization)
    if request.method == "POST":
        if not can_edit:
            raise Http404("No such page")
        now = timezone.now()
        action = request.POST.get("action")
        default = request.path
        try:
            if action == "acknowledge":
                _, changed = alert_acknowledge(alert=alert, by=request.user, now=now)
                messages.success(
                    request,
                    f"Alert {alert.title!r} acknowledged."
                    if changed
                    else f"Alert {alert.title!r} was already acknowledged.",
                )
            elif action == "resolve":
                _, changed = alert_resolve(alert=alert, ends_at=now, now=now, by=request.user, in_portal=True)
                messages.success(
                    request,
                    f"Alert {alert.title!r} resolved." if changed else f"Alert {alert.title!r} was already resolved.",
                )
            else:
                raise ValidationError({"action": f"unknown action {action!r}: acknowledge or resolve"})
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"action": exc.messages}
            ctx = _alert_context(alert, organization=organization, can_edit=can_edit, **extra)
            ctx["errors"] = {k: "; ".join(v) for k, v in errors.items()}
            return render(request, template, ctx, status=400)
        return redirect(safe_next(request, default))
    return render(request, template, _alert_context(alert, organization=organization, can_edit=can_edit, **extra))


def _alert_context(alert, *, organization, can_edit, **extra) -> dict:
    labels = alert_label_set(alert)
    return {
        "alert": alert,
        "labels": sorted(labels.items()),
        "annotations": sorted((alert.annotations or {}).items()),
        "links": alert_links(alert),
        "timeline": alert_timeline(alert),
        "silence_matchers": matchers_text(matchers_from_labels(labels)),
        "can_edit": can_edit,
        "org": organization,
        "tz": organization.timezone if organization else "",
        **extra,
    }


@staff_required
@require_http_methods(["GET", "POST"])
def ops_alert_detail(request, pk):
    """``/ops/alerts/<uuid>/``: one alert; POST ``action=acknowledge|resolve`` (``next``: where to go back)."""
    return _alert_detail(
        request,
        pk,
        organization=None,
        can_edit=True,
        template="alerts/alert_detail.html",
        extra={"silence_url": reverse("ops-silence-new")},
    )


# --- silences -----------------------------------------------------------------------------------


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


def _vendor(request, slug):
    from alerts.views import _can_edit

    org = get_organization_for_user(request, slug)
    return org, _can_edit(request, org)


@require_GET
def org_alert_list(request, slug: str):
    """``/org/<slug>/alerts/``: the organization's alerts, filtered and grouped like ``/ops/alerts/``."""
    org, can_edit = _vendor(request, slug)
    return _alert_list(
        request, organization=org, template="alerts/org_alerts.html", extra={"org": org, "can_edit": can_edit}
    )


@require_http_methods(["GET", "POST"])
def org_alert_detail(request, slug: str, pk):
    """``/org/<slug>/alerts/<uuid>/``: one of the organization's alerts (another's: 404); admins
    acknowledge or resolve it."""
    org, can_edit = _vendor(request, slug)
    return _alert_detail(
        request,
        pk,
        organization=org,
        can_edit=can_edit,
        template="alerts/alert_detail.html",
        extra={"silence_url": reverse("alerts-org-silence-new", args=[org.slug])},
    )


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
