"""Pages of the incidents app.

Staff (``/ops/…``): the incident list, the incident page where an incident
is worked end to end (acknowledge, investigate, resolve, close, reopen,
assign, note, escalate, merge, post-incident analysis), runbooks and the
reports page. Vendors (``/org/<slug>/incidents/…``): their organization's
incidents and vendor-visible updates, status-page style.

Views hold no logic: access through ``wedsync_ops.tenancy.access`` and
``incidents.selectors``, changes through the services. A refused change
re-renders the page with HTTP 400 and the field and reason.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from wedsync_ops.charts import bar_chart
from wedsync_ops.choices import IncidentStatus
from wedsync_ops.tenancy.access import get_organization_for_user, safe_next, staff_required

from . import analysis as analysis_services
from . import services
from .escalation import escalation_plan_for, incident_escalate, wedding_day_on
from .models import Incident, PostIncidentAnalysis, Runbook
from .reports import PRIORITIES, incident_report
from .selectors import incident_timeline, incidents_for_context, open_incidents, runbook_for_incident

LIST_LIMIT = 200
REPORT_DEFAULT_DAYS = 56


def _get_incident(pk) -> Incident:
    try:
        return incidents_for_context().get(pk=uuid.UUID(str(pk)))
    except (ValueError, Incident.DoesNotExist):
        raise Http404("No incident matches the given query.") from None


# --- staff ------------------------------------------------------------------


@staff_required
def ops_incident_list(request: HttpRequest) -> HttpResponse:
    """``/ops/incidents/?status=open|all|<status>``: open incidents most urgent first (default), or by status."""
    status = request.GET.get("status", "open")
    if status == "open":
        rows = open_incidents()
    elif status == "all":
        rows = incidents_for_context().order_by("-detected_at", "id")
    elif status in IncidentStatus.values:
        rows = incidents_for_context().filter(status=status).order_by("-detected_at", "id")
    else:
        return render(request, "incidents/ops_list.html", {"error": f"status: unknown value {status!r}"}, status=400)
    return render(
        request,
        "incidents/ops_list.html",
        {
            "rows": list(rows[:LIST_LIMIT]),
            "status": status,
            "statuses": ["open", "all", *IncidentStatus.values],
            "now": timezone.now(),
        },
    )


def _attach_deliveries(timeline: list) -> None:
    """Give each timeline entry that notified someone its deliveries' current outcomes (``u.outcomes``).

    One query for the whole timeline (``notifications.selectors.deliveries_by_ids``): each outcome is
    the channel, the status (sent, retrying, failed with its reason, held, cancelled) and the time.
    """
    from notifications.selectors import deliveries_by_ids

    wanted = {d for u in timeline for d in (u.deliveries or [])}
    found = {str(k): v for k, v in deliveries_by_ids(wanted).items()} if wanted else {}
    for u in timeline:
        u.outcomes = [found[d] for d in (u.deliveries or []) if d in found]


def _detail_context(request, incident: Incident, now: dt.datetime) -> dict:
    from alerts.models import AlertHistory

    wedding_day = incident.wedding_impact == "wedding_day_critical" or wedding_day_on(
        organization_id=incident.organization_id, at=now
    )
    plan = escalation_plan_for(organization_id=incident.organization_id, wedding_day=wedding_day)
    analysis = PostIncidentAnalysis.objects.filter(incident_id=incident.pk).first()
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")
    timeline = list(incident_timeline(incident, vendor=False))
    _attach_deliveries(timeline)
    return {
        "incident": incident,
        "timeline": timeline,
        "alerts": list(AlertHistory.objects.filter(incident_id=incident.pk).order_by("starts_at")),
        "duplicates": list(Incident.objects.filter(merged_into_id=incident.pk).order_by("detected_at")),
        "runbook": runbook_for_incident(incident),
        "plan": plan,
        "plan_steps": [{"n": i + 1, "wait": w, "level": lvl} for i, (w, lvl) in enumerate(plan.steps)],
        "analysis": analysis,
        "analysis_form": _analysis_form(analysis),
        "staff_users": list(staff),
        "merge_candidates": list(open_incidents(organization_id=incident.organization_id).exclude(pk=incident.pk)[:50])
        if incident.organization_id
        else list(open_incidents().filter(organization__isnull=True).exclude(pk=incident.pk)[:50]),
        "transitions": [
            name
            for name, (allowed_from, _to) in services.TRANSITIONS.items()
            if incident.status in allowed_from and incident.merged_into_id is None
        ],
        "now": now,
        # Issue 18 §3: correlated error patterns and the likely first cause (apm answers through
        # incidents.signals.incident_page_sections: incidents does not import apm).
        **_page_sections(incident),
        "recovery_logs": _recovery_logs(incident),
    }


ANALYSIS_FIELDS = (
    "summary",
    "impact_description",
    "root_cause",
    "contributing_factors",
    "weddings_affected",
    "organizations_affected",
    "impact_minutes",
)


def action_rows_from_post(post) -> list[dict]:
    """The action-item rows of the analysis form, as typed: ``[{"description", "owner", "due_date", "done",
    "remove", "blank"}]`` from the aligned lists ``item_description``/``item_owner``/``item_due_date`` and the
    row numbers ticked in ``item_done``/``item_remove`` (0-based). ``blank``: nothing typed in the row."""
    descriptions = post.getlist("item_description")
    owners = post.getlist("item_owner")
    dues = post.getlist("item_due_date")
    done = set(post.getlist("item_done"))
    remove = set(post.getlist("item_remove"))
    rows = []
    for i in range(max(len(descriptions), len(owners), len(dues))):
        row = {
            "description": (descriptions[i] if i < len(descriptions) else "").strip()[:500],
            "owner": (owners[i] if i < len(owners) else "").strip()[:200],
            "due_date": (dues[i] if i < len(dues) else "").strip()[:10],
            "done": str(i) in done,
            "remove": str(i) in remove,
        }
        row["blank"] = not (row["description"] or row["owner"] or row["due_date"])
        rows.append(row)
    return rows


def _analysis_form(analysis, post=None) -> dict:
    """What the analysis form shows: ``{"values": {field: text}, "rows": [action item rows]}``, from what
    was posted (a refused save keeps everything typed) or from the saved draft, plus one empty row to add."""
    if post is not None:
        values = {name: post.get(name, "") for name in ANALYSIS_FIELDS}
        rows = [r for r in action_rows_from_post(post) if not r["blank"]]
    else:
        values = {name: getattr(analysis, name, "") for name in ANALYSIS_FIELDS} if analysis else {}
        rows = [dict(item, remove=False) for item in (analysis.action_items if analysis else [])]
    rows.append({"description": "", "owner": "", "due_date": "", "done": False, "remove": False, "new": True})
    for i, row in enumerate(rows):
        row["n"] = i
    return {"values": values, "rows": rows}


def _recovery_logs(incident) -> list:
    from .recovery import recovery_logs_for_incident

    return recovery_logs_for_incident(incident)


def _uuid_or_none(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _page_sections(incident) -> dict:
    """The context other apps add to the incident page (incidents.signals.incident_page_sections)."""
    from .models import Incident
    from .signals import incident_page_sections

    sections: dict = {"correlation": {"patterns": [], "correlations": [], "first_cause": None}}
    for _receiver, extra in incident_page_sections.send(sender=Incident, incident=incident):
        sections.update(extra or {})
    return sections


def _user_or_none(value: str, field: str):
    if not value:
        return None
    user = get_user_model().objects.filter(username=value).first()
    if user is None:
        raise ValidationError({field: f"no user {value!r}"})
    return user


def _do(request, incident: Incident, action: str, now: dt.datetime) -> str:
    """Run one page action; returns the success message. Raises ValidationError."""
    by, post = request.user, request.POST
    transitions = {
        "acknowledge": services.incident_acknowledge,
        "investigate": services.incident_investigate,
        "resolve": services.incident_resolve,
        "close": services.incident_close,
        "reopen": services.incident_reopen,
    }
    if action in transitions:
        transitions[action](incident=incident, by=by, now=now)
        return f"Incident {incident.status}."
    if action == "approve_recovery":  # issue 18 §3: an on-call person approves a wedding-day automated action
        from .models import AutoRecoveryLog
        from .recovery import recovery_approve

        log = AutoRecoveryLog.objects.filter(incident_id=incident.pk, pk=_uuid_or_none(post.get("log"))).first()
        if log is None:
            raise ValidationError({"log": "no such automated run of this incident"})
        recovery_approve(log=log, by=by, now=now)
        return "Automated action approved; it runs now."
    if action == "escalate":
        done = incident_escalate(incident=incident, by=by, now=now, reason=post.get("reason", "").strip())
        return f"Escalated to {done.escalation_level}."
    if action == "assign":
        services.incident_assign(
            incident=incident,
            by=by,
            now=now,
            assignee=_user_or_none(post.get("assignee", ""), "assignee"),
            commander=_user_or_none(post.get("commander", ""), "commander"),
        )
        return "Assignment saved."
    if action == "note":
        services.incident_note_add(
            incident=incident,
            by=by,
            now=now,
            message=post.get("message", ""),
            vendor_visible=post.get("vendor_visible") == "on",
        )
        return "Note added."
    if action == "merge":
        try:
            into = incidents_for_context().get(pk=uuid.UUID(post.get("into", "")))
        except (ValueError, Incident.DoesNotExist):
            raise ValidationError({"into": "choose an incident to merge into"}) from None
        services.incident_merge(duplicate=incident, into=into, by=by, now=now)
        return f"Merged into {into.title}."
    if action == "analysis_start":
        analysis_services.analysis_start(incident=incident, by=by, now=now)
        return "Post-incident analysis started."
    if action in ("analysis_save", "analysis_publish"):
        analysis = PostIncidentAnalysis.objects.filter(incident_id=incident.pk).first()
        if analysis is None:
            raise ValidationError({"analysis": "start the analysis first"})
        if action == "analysis_save":
            from wedsync_ops.validation import InputError, json_loads

            if "action_items" in post:  # the JSON form (scripts); the page sends rows
                try:
                    items = json_loads(post.get("action_items", "[]") or "[]", field="action_items")
                except InputError as exc:
                    raise ValidationError({exc.field: exc.reason}) from None
            else:
                items = [row for row in action_rows_from_post(post) if not row["remove"] and not row["blank"]]
                items = [{k: row[k] for k in ("description", "owner", "due_date", "done")} for row in items]
            fields = {name: post.get(name, "") for name in ANALYSIS_FIELDS}
            analysis_services.analysis_update(analysis=analysis, by=by, now=now, action_items=items, **fields)
            return "Analysis saved."
        analysis_services.analysis_publish(analysis=analysis, by=by, now=now)
        return "Analysis published."
    raise ValidationError({"action": f"unknown action {action!r}"})


@staff_required
@require_http_methods(["GET", "POST"])
def ops_incident_detail(request: HttpRequest, pk) -> HttpResponse:
    """``/ops/incidents/<uuid>/``: the incident, its timeline, alerts, wedding, runbook, escalation and analysis.

    POST ``action`` = acknowledge | investigate | resolve | close | reopen |
    escalate (``reason``) | assign (``assignee``, ``commander``: usernames,
    empty clears) | note (``message``, ``vendor_visible``) | merge (``into``:
    uuid) | approve_recovery (``log``: an automated run awaiting approval) |
    analysis_start | analysis_save (the analysis fields,
    ``action_items`` as JSON) | analysis_publish. Success: 302 back to the
    page; refused: 400 with the field and reason.
    """
    incident = _get_incident(pk)
    now = timezone.now()
    if request.method == "POST":
        try:
            message = _do(request, incident, request.POST.get("action", ""), now)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"action": exc.messages}
            ctx = _detail_context(request, _get_incident(pk), now)
            ctx["errors"] = {k: "; ".join(v) for k, v in errors.items()}
            if request.POST.get("action") == "analysis_save":
                ctx["analysis_form"] = _analysis_form(ctx["analysis"], request.POST)
            return render(request, "incidents/ops_detail.html", ctx, status=400)
        messages.success(request, message)
        return redirect(safe_next(request, reverse("ops-incident-detail", args=[incident.pk])))
    return render(request, "incidents/ops_detail.html", _detail_context(request, incident, now))


def _get_runbook(pk) -> Runbook:
    try:
        return Runbook.objects.select_related("updated_by", "organization").get(pk=uuid.UUID(str(pk)))
    except (ValueError, Runbook.DoesNotExist):
        raise Http404("No such runbook") from None


@staff_required
def ops_runbook_list(request: HttpRequest) -> HttpResponse:
    """``/ops/runbooks/?q=``: every runbook, by title; ``q`` searches title, content and the labels it applies to."""
    from django.db.models import Q

    q = (request.GET.get("q") or "").strip()[:200]
    qs = Runbook.objects.select_related("organization", "updated_by").order_by("title")
    if q:
        qs = qs.filter(
            Q(title__icontains=q) | Q(content__icontains=q) | Q(service__icontains=q) | Q(alertname__icontains=q)
        )
    return render(request, "incidents/runbook_list.html", {"runbooks": list(qs[:500]), "q": q})


def runbook_incidents(runbook: Runbook, *, limit: int = 50) -> list[Incident]:
    """Incidents whose alerts carry the labels ``runbook`` applies to (its ``service``/``alertname``; the
    organization's own for an organization's runbook), newest first. Two queries."""
    from alerts.models import AlertHistory

    if not runbook.service and not runbook.alertname:
        return []
    alerts = AlertHistory.objects.filter(incident__isnull=False)
    if runbook.alertname:
        alerts = alerts.filter(labels__alertname=runbook.alertname)
    if runbook.service:
        alerts = alerts.filter(labels__service=runbook.service)
    if runbook.organization_id:
        alerts = alerts.filter(organization_id=runbook.organization_id)
    ids = alerts.values_list("incident_id", flat=True).distinct()[:500]
    return list(
        incidents_for_context().filter(pk__in=list(ids)).select_related("organization").order_by("-detected_at")[:limit]
    )


@staff_required
def ops_runbook(request: HttpRequest, pk) -> HttpResponse:
    """``/ops/runbooks/<uuid>/``: a runbook's sanitized HTML, the incidents it applies to and its versions."""
    runbook = _get_runbook(pk)
    return render(
        request,
        "incidents/runbook.html",
        {
            "runbook": runbook,
            "versions": list(runbook.versions.select_related("author").order_by("-version")),
            "incidents": runbook_incidents(runbook),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def ops_runbook_edit(request: HttpRequest, pk=None) -> HttpResponse:
    """``/ops/runbooks/<uuid>/edit/`` (a new version on each changed save) and ``/ops/runbooks/new/``.

    ``?version=N`` loads that version's text to restore it. Saved: back to the runbook with a
    confirmation; refused (``incidents.runbooks.runbook_save``): 400, the field and everything typed kept.
    """
    from .forms import RunbookForm
    from .runbooks import runbook_save

    runbook = _get_runbook(pk) if pk is not None else None
    status = 200
    if request.method == "POST":
        form = RunbookForm(request.POST)
        if form.is_valid():
            try:
                saved = runbook_save(runbook=runbook, by=request.user, now=timezone.now(), **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, f"Runbook saved as version {saved.version}.")
                return redirect("ops-runbook", pk=saved.pk)
        status = 400
    elif runbook is not None:
        initial = {
            "title": runbook.title,
            "service": runbook.service,
            "alertname": runbook.alertname,
            "content": runbook.content,
        }
        version = request.GET.get("version")
        if version and version.isdigit():
            old = runbook.versions.filter(version=int(version)).first()
            if old is not None:
                initial.update(title=old.title, content=old.content)
        form = RunbookForm(initial=initial)
    else:
        form = RunbookForm()
    return render(request, "incidents/runbook_edit.html", {"form": form, "runbook": runbook}, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def ops_incident_new(request: HttpRequest) -> HttpResponse:
    """``/ops/incidents/new/``: open an incident by hand (``incidents.services.incident_create``).

    Opened: to its page with a confirmation. Refused: 400 naming the field, everything typed kept.
    """
    from wedsync_ops.tenancy.models import Organization

    from .forms import IncidentOpenForm

    status = 200
    form = IncidentOpenForm(request.POST or None, initial={"organization": request.GET.get("organization", "")})
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            org = None
            if data["organization"]:
                org = Organization.objects.filter(slug=data["organization"]).first()
                if org is None:
                    form.add_error("organization", f"no organization {data['organization']!r}")
            if not form.errors:
                try:
                    incident = services.incident_create(
                        organization=org,
                        title=data["title"],
                        description=data["description"],
                        priority=data["priority"],
                        severity=data["severity"],
                        wedding_impact=data["wedding_impact"],
                        by=request.user,
                        now=timezone.now(),
                    )
                except ValidationError as exc:
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    messages.success(request, f"Incident {incident.priority} opened: {incident.title}.")
                    return redirect("ops-incident-detail", pk=incident.pk)
        status = 400
    organizations = list(Organization.objects.order_by("name").values("slug", "name"))
    return render(request, "incidents/incident_new.html", {"form": form, "organizations": organizations}, status=status)


def _parse_date(value: str | None, field: str, default: dt.date) -> dt.date:
    """``wedsync_ops.validation.parse_date`` (YYYY-MM-DD, 1970–2100) raising ValidationError naming ``field``."""
    from wedsync_ops.validation import InputError, parse_date

    try:
        return parse_date(value, field=field, default=default)
    except InputError as exc:
        raise ValidationError({field: exc.reason}) from None


def report_params(params, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """``since``/``until`` from query parameters (default: the last 8 weeks to today). Raises ValidationError."""
    until = _parse_date(params.get("until"), "until", today)
    since = _parse_date(params.get("since"), "since", until - dt.timedelta(days=REPORT_DEFAULT_DAYS - 1))
    if until < since:
        raise ValidationError({"until": "is before since"})
    if (until - since).days >= 366:
        raise ValidationError({"since": "the range is longer than 366 days"})
    return since, until


def _minutes(seconds):
    return None if seconds is None else round(seconds / 60.0, 1)


@staff_required
def ops_reports(request: HttpRequest) -> HttpResponse:
    """``/ops/incidents/reports/?since=&until=&organization=<slug>``: MTTA, MTTR and counts with SVG charts."""
    from wedsync_ops.tenancy.models import Organization

    org = None
    try:
        since, until = report_params(request.GET, today=timezone.now().date())
        slug = request.GET.get("organization")
        if slug:
            org = Organization.objects.filter(slug=slug).first()
            if org is None:
                raise ValidationError({"organization": f"no organization {slug!r}"})
    except ValidationError as exc:
        return render(
            request,
            "incidents/reports.html",
            {"errors": {k: "; ".join(v) for k, v in exc.message_dict.items()}},
            status=400,
        )
    report = incident_report(since=since, until=until, organization_id=org.pk if org else None)
    weeks = report["weeks"]
    cats = [w["week"][5:] for w in weeks]
    charts = [
        bar_chart(
            title="Incidents per week by priority",
            categories=cats,
            stacked=True,
            y_label="incidents",
            series=[(p, [w["by_priority"][p] for w in weeks]) for p in PRIORITIES],
        ),
        bar_chart(
            title="MTTA per week: Saturdays beside other days",
            categories=cats,
            y_label="minutes",
            fmt="{:.1f}",
            series=[
                ("Saturday", [_minutes(w["saturday"]["mtta_s"]) for w in weeks]),
                ("other days", [_minutes(w["other_days"]["mtta_s"]) for w in weeks]),
            ],
        ),
        bar_chart(
            title="MTTR per week: Saturdays beside other days",
            categories=cats,
            y_label="minutes",
            fmt="{:.1f}",
            series=[
                ("Saturday", [_minutes(w["saturday"]["mttr_s"]) for w in weeks]),
                ("other days", [_minutes(w["other_days"]["mttr_s"]) for w in weeks]),
            ],
        ),
    ]
    return render(
        request,
        "incidents/reports.html",
        {"report": report, "charts": charts, "organization": org, "since": since, "until": until},
    )


# --- vendors ----------------------------------------------------------------


@login_required
def org_incident_list(request: HttpRequest, slug: str) -> HttpResponse:
    """``/org/<slug>/incidents/``: the organization's incidents, open first, then the last 50 others."""
    org = get_organization_for_user(request, slug)
    qs = incidents_for_context().filter(organization_id=org.pk, merged_into__isnull=True)
    open_rows = list(open_incidents(organization_id=org.pk).filter(merged_into__isnull=True))
    past = list(qs.exclude(status__in=Incident.OPEN_STATUSES).order_by("-detected_at", "id")[:50])
    return render(request, "incidents/org_list.html", {"org": org, "open_rows": open_rows, "past": past})


@login_required
def org_incident_detail(request: HttpRequest, slug: str, pk) -> HttpResponse:
    """``/org/<slug>/incidents/<uuid>/``: one incident and its vendor-visible updates; another org's: 404."""
    org = get_organization_for_user(request, slug)
    incident = _get_incident(pk)
    if incident.organization_id != org.pk:
        raise Http404("No incident matches the given query.")
    updates = list(incident_timeline(incident, vendor=True))
    return render(request, "incidents/org_detail.html", {"org": org, "incident": incident, "updates": updates})
