"""On-call pages: who is on call now and the next 14 days per schedule, schedule editing, a person's paging.

- ``/ops/oncall/`` (staff): every schedule, platform first; ``/ops/oncall/<id>/``: one schedule,
  edited by staff (layers, overrides, wedding-day scope, feed URL).
- ``/org/<slug>/oncall/`` (the organization's users; staff): its schedules; its admins (owner,
  admin) create and edit them at ``/org/<slug>/oncall/<id>/``; members read.
- ``/oncall/me/`` (anyone logged in): my contact methods, my notification rules (ordinary and
  wedding-day lists), my shifts and my calendar feed.

Views hold no logic: access through ``get_schedule_for_user`` (another organization's schedule is
404, like an unknown one), reads through ``oncall.selectors``, writes through ``oncall.services``; a
refused change re-renders with HTTP 400 and the field's reason.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from wedsync_ops.charts import Segment, timeline_chart
from wedsync_ops.tenancy.access import get_organization_for_user, is_staff_request, request_tenant, staff_required
from wedsync_ops.tenancy.models import Organization, UserProfile

from . import services
from .forms import ContactMethodForm, OverrideForm, RotationForm, RuleForm, ScheduleForm, apply_errors
from .models import ContactMethod, Override, PersonalRule, Rotation, Schedule
from .selectors import (
    contact_methods_of,
    display_name,
    person_shifts,
    rules_of,
    schedule_timelines,
    schedules_visible,
)


def get_schedule_for_user(request: HttpRequest, pk, *, organization: Organization | None) -> Schedule:
    """The schedule ``pk`` if the request may see it here, else Http404.

    ``organization`` None: the staff page (any schedule); else that organization's schedules only
    (the organization was already checked by ``get_organization_for_user``).
    """
    try:
        qs = Schedule.objects.select_related("organization").filter(pk=uuid.UUID(str(pk)))
    except ValueError:
        raise Http404("No such schedule") from None
    qs = qs.filter(organization=organization) if organization is not None else qs
    schedule = qs.first()
    if schedule is None:
        raise Http404("No such schedule")
    return schedule


def _is_org_admin(request, org: Organization) -> bool:
    if is_staff_request(request):
        return True
    ctx = request_tenant(request)
    return (
        UserProfile.objects.filter(
            user_id=request.user.pk, organization_id=org.pk, role__in=[UserProfile.Role.OWNER, UserProfile.Role.ADMIN]
        ).exists()
        and ctx.org_id == org.pk
    )


def _chart(timeline, *, now) -> str:
    colors: dict[int, int] = {}
    lanes = []
    for lane in timeline.lanes:
        segments = []
        for shift in lane.shifts:
            if shift.person is None:
                if lane.is_final:
                    segments.append(Segment(shift.start, shift.end, "gap", gap=True))
                continue
            color = colors.setdefault(shift.person, len(colors))
            segments.append(Segment(shift.start, shift.end, timeline.names.get(shift.person, "?"), color))
        lanes.append((lane.label, segments))
    return timeline_chart(
        title=f"{timeline.schedule.name}: the next {round((timeline.end - timeline.start).days)} days "
        f"({timeline.schedule.timezone})",
        start=timeline.start,
        end=timeline.end,
        lanes=lanes,
        tz=timeline.tz,
        now=now,
        chart_id=f"timeline-{timeline.schedule.pk}",
    )


def _overview(request, schedules, *, template: str, extra: dict, status: int = 200) -> HttpResponse:
    now = timezone.now()
    timelines = schedule_timelines(schedules, now=now)
    for t in timelines:
        t.chart = _chart(t, now=now)
    return render(request, template, {"timelines": timelines, "now": now, **extra}, status=status)


# --- staff ----------------------------------------------------------------------------------------


@staff_required
def ops_oncall(request: HttpRequest) -> HttpResponse:
    """``/ops/oncall/``: every enabled schedule, now and the next 14 days; POST creates a platform schedule."""
    form = ScheduleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                schedule = services.schedule_save(
                    organization=None,
                    name=form.cleaned_data["name"],
                    timezone_name=form.cleaned_data["timezone"],
                    description=form.cleaned_data["description"],
                )
                return redirect("ops-oncall-schedule", pk=schedule.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
        status = 400
    schedules = (
        Schedule.objects.filter(enabled=True).select_related("organization").order_by("organization__name", "name")
    )
    return _overview(
        request,
        schedules,
        template="oncall/overview.html",
        extra={"form": form, "can_edit": True, "org": None},
        status=status,
    )


@staff_required
def ops_schedule(request: HttpRequest, pk) -> HttpResponse:
    """``/ops/oncall/<id>/``: one schedule with its layers and overrides; staff edit it."""
    schedule = get_schedule_for_user(request, pk, organization=None)
    return _schedule_page(request, schedule, can_edit=True, org=None)


# --- vendors --------------------------------------------------------------------------------------


@login_required
def org_oncall(request: HttpRequest, slug: str) -> HttpResponse:
    """``/org/<slug>/oncall/``: the organization's schedules; its admins create them (POST)."""
    org = get_organization_for_user(request, slug)
    can_edit = _is_org_admin(request, org)
    form = ScheduleForm(request.POST or None, initial={"timezone": org.timezone})
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise Http404("No such page")
        if form.is_valid():
            try:
                schedule = services.schedule_save(
                    organization=org,
                    name=form.cleaned_data["name"],
                    timezone_name=form.cleaned_data["timezone"],
                    description=form.cleaned_data["description"],
                )
                return redirect("org-oncall-schedule", slug=org.slug, pk=schedule.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
        status = 400
    schedules = schedules_visible(organization_id=org.pk, platform=False)
    return _overview(
        request,
        schedules,
        template="oncall/overview.html",
        extra={"form": form, "can_edit": can_edit, "org": org},
        status=status,
    )


@login_required
def org_schedule(request: HttpRequest, slug: str, pk) -> HttpResponse:
    """``/org/<slug>/oncall/<id>/``: one of the organization's schedules; its admins edit it."""
    org = get_organization_for_user(request, slug)
    schedule = get_schedule_for_user(request, pk, organization=org)
    return _schedule_page(request, schedule, can_edit=_is_org_admin(request, org), org=org)


# --- one schedule ---------------------------------------------------------------------------------


def _schedule_page(request: HttpRequest, schedule: Schedule, *, can_edit: bool, org) -> HttpResponse:
    """The schedule page (GET) and its edits (POST ``action``: schedule, rotation, rotation-delete,
    override, override-delete, feed)."""
    eligible = services.eligible_people(organization_id=schedule.organization_id)
    forms_ = {
        "schedule": ScheduleForm(
            initial={
                "name": schedule.name,
                "timezone": schedule.timezone,
                "description": schedule.description,
                "enabled": schedule.enabled,
            }
        ),
        "rotation": RotationForm(eligible=eligible, initial={"starts_on": timezone.now().date()}),
        "override": OverrideForm(eligible=eligible, tz=schedule.tz),
    }
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise Http404("No such page")
        action = request.POST.get("action", "")
        done, bound = _schedule_action(request, schedule, action, eligible)
        if done:
            return redirect(request.path)
        if bound is not None:
            forms_[action] = bound
        status = 400
    now = timezone.now()
    (timeline,) = schedule_timelines([schedule], now=now)
    timeline.chart = _chart(timeline, now=now)
    rotations = list(
        Rotation.objects.filter(schedule=schedule).prefetch_related("participants__user").order_by("-position", "name")
    )
    overrides = list(
        Override.objects.filter(schedule=schedule, ends_at__gt=now).select_related("user").order_by("starts_at")
    )
    feed_url = request.build_absolute_uri(f"/oncall/feeds/schedule/{schedule.ical_token}.ics")
    return render(
        request,
        "oncall/schedule.html",
        {
            "schedule": schedule,
            "t": timeline,
            "rotations": rotations,
            "overrides": overrides,
            "forms": forms_,
            "can_edit": can_edit,
            "org": org,
            "eligible": eligible,
            "feed_url": feed_url,
            "now": now,
            "scope": list(schedule.wedding_day_organizations.all()) if schedule.organization_id is None else [org],
            "all_orgs": Organization.objects.order_by("name") if schedule.organization_id is None else [],
        },
        status=status,
    )


def _schedule_action(request, schedule: Schedule, action: str, eligible):
    """Apply one POSTed edit; returns ``(done, bound form or None)``."""
    try:
        if action == "schedule":
            form = ScheduleForm(request.POST)
            if not form.is_valid():
                return False, form
            scope = None
            if schedule.organization_id is None and "scope" in request.POST:
                scope = list(Organization.objects.filter(pk__in=[v for v in request.POST.getlist("scope") if v]))
            services.schedule_save(
                schedule=schedule,
                organization=schedule.organization,
                name=form.cleaned_data["name"],
                timezone_name=form.cleaned_data["timezone"],
                description=form.cleaned_data["description"],
                enabled=form.cleaned_data["enabled"],
                wedding_day_organizations=scope,
            )
            messages.success(request, "Schedule saved.")
            return True, None
        if action == "rotation":
            form = RotationForm(request.POST, eligible=eligible)
            if not form.is_valid():
                return False, form
            data = form.cleaned_data
            rotation = None
            if request.POST.get("rotation_id"):
                rotation = Rotation.objects.filter(schedule=schedule, pk=request.POST["rotation_id"]).first()
                if rotation is None:
                    raise Http404("No such layer")
            try:
                services.rotation_save(schedule=schedule, rotation=rotation, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
                return False, form
            messages.success(request, f"Layer {data['name']!r} saved.")
            return True, None
        if action == "rotation-delete":
            rotation = Rotation.objects.filter(schedule=schedule, pk=request.POST.get("rotation_id")).first()
            if rotation is None:
                raise Http404("No such layer")
            services.rotation_delete(rotation=rotation)
            messages.success(request, f"Layer {rotation.name!r} deleted.")
            return True, None
        if action == "override":
            form = OverrideForm(request.POST, eligible=eligible, tz=schedule.tz)
            if not form.is_valid():
                return False, form
            try:
                services.override_create(schedule=schedule, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
                return False, form
            messages.success(request, "Override added.")
            return True, None
        if action == "override-delete":
            override = Override.objects.filter(schedule=schedule, pk=request.POST.get("override_id")).first()
            if override is None:
                raise Http404("No such override")
            services.override_delete(override=override)
            messages.success(request, "Override deleted.")
            return True, None
        if action == "feed":
            services.schedule_feed_regenerate(schedule=schedule)
            messages.success(request, "The calendar feed has a new secret address; the old one stopped working.")
            return True, None
    except ValueError:
        raise Http404("No such item") from None
    messages.error(request, f"Unknown action {action!r}.")
    return False, None


# --- me -------------------------------------------------------------------------------------------


@login_required
def my_paging(request: HttpRequest) -> HttpResponse:
    """``/oncall/me/``: my contact methods, rules, shifts and calendar feed; POST ``action``: method,
    method-delete, rule, rule-delete, feed."""
    user = request.user
    method_form, rule_form = ContactMethodForm(), RuleForm(user=user)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "method":
                method_form = ContactMethodForm(request.POST)
                if method_form.is_valid():
                    services.contact_method_add(user=user, **method_form.cleaned_data)
                    return redirect("oncall-me")
            elif action == "rule":
                rule_form = RuleForm(request.POST, user=user)
                if rule_form.is_valid():
                    services.rule_add(user=user, **rule_form.cleaned_data)
                    return redirect("oncall-me")
            elif action == "method-delete":
                method = ContactMethod.objects.filter(user=user, pk=_uuid(request.POST.get("id"))).first()
                if method is None:
                    raise Http404("No such contact method")
                services.contact_method_delete(method=method)
                return redirect("oncall-me")
            elif action == "rule-delete":
                rule = PersonalRule.objects.filter(user=user, pk=_uuid(request.POST.get("id"))).first()
                if rule is None:
                    raise Http404("No such rule")
                services.rule_delete(rule=rule)
                return redirect("oncall-me")
            elif action == "feed":
                services.profile_feed_regenerate(user=user)
                messages.success(request, "Your calendar feed has a new secret address.")
                return redirect("oncall-me")
        except ValidationError as exc:
            apply_errors(method_form if action == "method" else rule_form, exc)
        status = 400
    now = timezone.now()
    profile = services.profile_for(user=user)
    shifts = person_shifts(user=user, start=now, end=now + dt.timedelta(days=14))
    return render(
        request,
        "oncall/me.html",
        {
            "methods": contact_methods_of(user),
            "rules": rules_of(user, wedding_day=False),
            "wedding_rules": rules_of(user, wedding_day=True),
            "method_form": method_form,
            "rule_form": rule_form,
            "shifts": shifts,
            "name": display_name(user),
            "now": now,
            "feed_url": request.build_absolute_uri(f"/oncall/feeds/person/{profile.ical_token}.ics"),
        },
        status=status,
    )


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404("No such item") from None
