"""Alert pages: ``/ops/alerts/``, ``/ops/alerts/<id>/`` (staff) and the same
for one organization under ``/org/<slug>/alerts/…`` (its members; admins change things).

Alertmanager's model: alerts filtered by state, severity, organization, source and label matchers
(amtool syntax), grouped by group key; an alert's page shows its labels, annotations, links, timeline,
the threshold that applied and why, and "silence this" prefilled with its labels (the silence pages are
``alerts.silence_pages``). Views parse and check access; every write goes through ``alerts.services``.
Another organization's alert answers 404.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from alerts.forms import AlertFilterForm
from alerts.models import AlertHistory
from alerts.suppression import alert_label_set, matchers_from_labels
from wedsync_ops.matchers import matchers_match, matchers_text, parse_matchers
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
