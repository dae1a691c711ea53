"""Pages of the heartbeats app: checks for vendors and staff, and the portal's own beat jobs for staff.

- ``/org/<slug>/heartbeats/`` and ``/org/<slug>/heartbeats/<id>/``: the
  organization's checks (list with the last pings and a 30-day strip; a
  check's ping URL with copy-paste ``curl`` and crontab lines, its ping log
  with bodies and its state changes). Owners and admins (and staff) create,
  edit, pause and delete checks.
- ``/ops/heartbeats/`` and ``/ops/heartbeats/<id>/``: every check (platform
  checks, Watchdogs, every organization's), for staff; staff create platform checks.
- ``/ops/jobs/`` and ``/ops/jobs/<job>/``: each beat job's last runs and lateness.

Access goes through ``wedsync_ops.tenancy.access``: another organization's
slug or check answers 404. A refused change re-renders with HTTP 400
naming the field.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from wedsync_ops.charts import Series, line_chart, status_strip
from wedsync_ops.choices import AlertPriority, AlertSeverity
from wedsync_ops.tenancy.access import get_organization_for_user, is_staff_request, staff_required
from wedsync_ops.tenancy.models import Organization, UserProfile

from . import selectors, services
from .jobs import beat_jobs
from .models import HeartbeatCheck, HeartbeatFlip, HeartbeatPing
from .schedule import cron_describe, human_seconds

STRIP_DAYS = 30
OPS_PAGE_SIZE = 100
# form field -> service field, and the seconds in one unit of the form field.
FORM_SECONDS = {
    "period_minutes": ("period_s", 60),
    "grace_minutes": ("grace_s", 60),
    "wedding_day_grace_minutes": ("wedding_day_grace_s", 60),
}


class CheckForm(forms.Form):
    """A check's editable fields, with durations in minutes (the services take seconds)."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    kind = forms.ChoiceField(
        choices=HeartbeatCheck.Kind.choices,
        initial="period",
        help_text="period: every N minutes; cron: at the times of a cron expression",
    )
    period_minutes = forms.IntegerField(min_value=1, initial=1440, help_text="Period: a ping expected every … minutes")
    cron = forms.CharField(required=False, max_length=100, help_text="Cron: 5 fields, e.g. 0 2 * * * (02:00 daily)")
    timezone = forms.CharField(max_length=64, initial="UTC", help_text="Cron: the IANA time zone, e.g. Europe/London")
    grace_minutes = forms.IntegerField(min_value=1, initial=60, help_text="Late this long before it is down")
    wedding_day_grace_minutes = forms.IntegerField(
        required=False, min_value=1, help_text="Stricter grace while the wedding-day protocol is on; empty: half"
    )
    severity = forms.ChoiceField(choices=AlertSeverity.choices, initial=AlertSeverity.WARNING)
    priority = forms.ChoiceField(choices=AlertPriority.choices, initial=AlertPriority.HIGH)

    def service_fields(self) -> dict:
        """The cleaned data as ``services.check_create``/``check_update`` keyword arguments (seconds)."""
        data = dict(self.cleaned_data)
        for form_name, (service_name, unit) in FORM_SECONDS.items():
            value = data.pop(form_name)
            data[service_name] = None if value is None else value * unit
        return data

    def add_service_errors(self, exc: ValidationError) -> None:
        """Attach a service ValidationError to the matching form fields."""
        by_service = {service: form for form, (service, _unit) in FORM_SECONDS.items()}
        for field, errors in exc.message_dict.items():
            name = by_service.get(field, field)
            self.add_error(name if name in self.fields else None, errors)


def initial_from(check: HeartbeatCheck) -> dict:
    """A check's values as the form's initial data."""
    return {
        "name": check.name,
        "description": check.description,
        "kind": check.kind,
        "period_minutes": check.period_s // 60,
        "cron": check.cron,
        "timezone": check.timezone,
        "grace_minutes": check.grace_s // 60,
        "wedding_day_grace_minutes": None if check.wedding_day_grace_s is None else check.wedding_day_grace_s // 60,
        "severity": check.severity,
        "priority": check.priority,
    }


def _can_edit(request, org: Organization | None) -> bool:
    """Staff always; a vendor user when owner or admin of ``org``."""
    if is_staff_request(request):
        return True
    if org is None:
        return False
    role = UserProfile.objects.filter(user_id=request.user.pk, organization=org).values_list("role", flat=True).first()
    return role in (UserProfile.Role.OWNER, UserProfile.Role.ADMIN)


def get_check_for_user(request, check_id: uuid.UUID, *, org: Organization | None) -> HeartbeatCheck:
    """The check ``check_id`` of ``org`` (vendor pages) or any check (staff pages, ``org`` None); else Http404."""
    qs = HeartbeatCheck.objects.select_related("organization", "watchdog_integration").filter(pk=check_id)
    if org is not None:
        qs = qs.filter(organization=org)
    elif not is_staff_request(request):
        raise Http404("No such check")
    check = qs.first()
    if check is None:
        raise Http404("No such check")
    return check


def _strip_html(check: HeartbeatCheck, cells: list[selectors.DayCell]) -> str:
    def detail(c: selectors.DayCell) -> str:
        parts = []
        if c.down_s:
            parts.append(f"down {round(c.down_s / 60)} min")
        if c.late_s:
            parts.append(f"late {round(c.late_s / 60)} min")
        return ", ".join(parts)

    return status_strip(
        title=f"{check.name}, last {len(cells)} days",
        cells=[(c.day.strftime("%a %d %b"), c.state, detail(c)) for c in cells],
        chart_id=f"strip-{check.pk}",
    )


def _rows(checks: list[HeartbeatCheck], *, now: dt.datetime, tz) -> list[dict]:
    strips = selectors.check_strips(checks, now=now, days=STRIP_DAYS, tz=tz)
    pings = selectors.checks_with_last_pings(checks, per_check=3)
    return [
        {
            "check": c,
            "strip": _strip_html(c, strips[c.pk]),
            "pings": pings.get(c.pk, []),
            "schedule": schedule_words(c),
            "down_days": sum(1 for d in strips[c.pk] if d.state == "down"),
        }
        for c in checks
    ]


def schedule_words(check: HeartbeatCheck) -> str:
    """``every 1 day`` / ``0 2 * * * (At 02:00 every day, Europe/London)``, plus the grace."""
    if check.kind == HeartbeatCheck.Kind.CRON:
        what = f"{check.cron} ({cron_describe(check.cron) or 'cron'}, {check.timezone})"
    else:
        what = f"every {human_seconds(check.period_s)}"
    wedding = human_seconds(check.effective_wedding_day_grace_s)
    return f"{what}; grace {human_seconds(check.grace_s)}, wedding day {wedding}"


def crontab_example(check: HeartbeatCheck) -> str:
    """A crontab schedule matching the check: its cron expression, or one for its period (a daily 02:00 otherwise)."""
    if check.kind == HeartbeatCheck.Kind.CRON:
        return check.cron
    minutes = check.period_s // 60
    if check.period_s % 60 == 0 and minutes < 60 and 60 % minutes == 0:
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    hours = check.period_s // 3600
    if check.period_s % 3600 == 0 and hours < 24 and 24 % hours == 0:
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    return "0 2 * * *"


def _examples(check: HeartbeatCheck) -> dict:
    url = check.ping_url
    curl = "curl -fsS -m 10 --retry 5 -o /dev/null"
    schedule = crontab_example(check)
    local_cron = check.kind == HeartbeatCheck.Kind.CRON and check.timezone != "UTC"
    tz_line = f"CRON_TZ={check.timezone}\n" if local_cron else ""
    return {
        "url": url,
        "curl": f"{curl} {url}",
        "crontab": f"{tz_line}{schedule} /usr/local/bin/backup.sh && {curl} {url}",
        "measured": (
            f"{tz_line}{schedule} {curl} {url}/start; out=$(/usr/local/bin/backup.sh 2>&1);"
            f' {curl} --data-raw "$out" {url}/$?'
        ),
        "fail": f"{curl} {url}/fail",
    }


def _tz_of(org: Organization | None):
    return org.tz if org is not None else dt.UTC


def _list(request, *, org: Organization | None):
    """Shared list page: the checks of ``org`` (vendor) or every check (staff, ``org`` None), and the create form."""
    now = timezone.now()
    can_edit = _can_edit(request, org)
    form, status = None, 200
    if can_edit:
        form = CheckForm(initial={"timezone": org.timezone if org else "UTC"})
    if request.method == "POST":
        if not can_edit:
            raise Http404("No such page")
        form = CheckForm(request.POST)
        if form.is_valid():
            try:
                check = services.check_create(
                    organization_id=org.id if org else None,
                    now=now,
                    created_by=request.user,
                    **form.service_fields(),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Created check {check.name!r}: ping it at {check.ping_url}")
                return redirect(_detail_url(check, org))
        status = 400
    qs = HeartbeatCheck.objects.select_related("organization").order_by("name", "id")
    if org is not None:
        qs = qs.filter(organization=org)
    else:
        wanted = request.GET.get("status", "")
        if wanted in HeartbeatCheck.Status.values:
            qs = qs.filter(status=wanted)
        if request.GET.get("org") == "platform":
            qs = qs.filter(organization__isnull=True)
        elif request.GET.get("org"):
            qs = qs.filter(organization__slug=request.GET["org"])
    counts = selectors.check_status_counts(qs if org is not None else HeartbeatCheck.objects.all())
    page = Paginator(qs, OPS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "org": org,
        "rows": _rows(list(page.object_list), now=now, tz=_tz_of(org)),
        "page": page,
        "counts": counts,
        "form": form,
        "can_edit": can_edit,
        "tz_name": org.timezone if org else "UTC",
        "statuses": HeartbeatCheck.Status.values,
        "status_filter": request.GET.get("status", ""),
        "strip_days": STRIP_DAYS,
    }
    return render(request, "heartbeats/list.html", context, status=status)


def _detail_url(check: HeartbeatCheck, org: Organization | None) -> str:
    if org is not None:
        return f"/org/{org.slug}/heartbeats/{check.pk}/"
    return f"/ops/heartbeats/{check.pk}/"


def _detail(request, check_id: uuid.UUID, *, org: Organization | None):
    """Shared detail page: ping URL and examples, the ping log, state changes, the edit form and actions."""
    now = timezone.now()
    check = get_check_for_user(request, check_id, org=org)
    can_edit = _can_edit(request, org if org is not None else check.organization)
    form, status = (CheckForm(initial=initial_from(check)) if can_edit else None), 200
    if request.method == "POST":
        if not can_edit:
            raise Http404("No such page")
        action = request.POST.get("action", "save")
        if action == "pause":
            services.check_pause(check=check, now=now)
            messages.success(request, f"Paused {check.name!r}: the next ping resumes it.")
            return redirect(_detail_url(check, org))
        if action == "delete":
            services.check_delete(check=check, now=now)
            messages.success(request, f"Deleted {check.name!r}.")
            return redirect(f"/org/{org.slug}/heartbeats/" if org is not None else "/ops/heartbeats/")
        form = CheckForm(request.POST)
        if form.is_valid():
            try:
                services.check_update(check=check, now=now, **form.service_fields())
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, f"Saved {form.cleaned_data['name']!r}.")
                return redirect(_detail_url(check, org))
        status = 400
    tz = _tz_of(org if org is not None else check.organization)
    strip = selectors.check_strips([check], now=now, days=STRIP_DAYS, tz=tz)[check.pk]
    context = {
        "org": org,
        "check": check,
        "form": form,
        "can_edit": can_edit,
        "schedule": schedule_words(check),
        "strip": _strip_html(check, strip),
        "down_days": sum(1 for d in strip if d.state == "down"),
        "examples": None if check.watchdog_integration_id else _examples(check),
        "pings": HeartbeatPing.objects.filter(heartbeat_check=check).order_by("-n")[:50],
        "flips": HeartbeatFlip.objects.filter(heartbeat_check=check).order_by("-flipped_at", "-id")[:30],
        "tz_name": str(tz),
        "list_url": f"/org/{org.slug}/heartbeats/" if org is not None else "/ops/heartbeats/",
        "strip_days": STRIP_DAYS,
    }
    return render(request, "heartbeats/detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def org_checks(request, slug: str):
    """``/org/<slug>/heartbeats/``: the organization's checks; ``POST`` creates one (owners, admins, staff)."""
    return _list(request, org=get_organization_for_user(request, slug))


@login_required
@require_http_methods(["GET", "POST"])
def org_check_detail(request, slug: str, check_id: uuid.UUID):
    """``/org/<slug>/heartbeats/<id>/``: one check; ``POST`` saves, pauses or deletes it."""
    return _detail(request, check_id, org=get_organization_for_user(request, slug))


@staff_required
@require_http_methods(["GET", "POST"])
def ops_checks(request):
    """``/ops/heartbeats/``: every check (``?status=``, ``?org=<slug>|platform``); ``POST`` creates a platform check."""
    return _list(request, org=None)


@staff_required
@require_http_methods(["GET", "POST"])
def ops_check_detail(request, check_id: uuid.UUID):
    """``/ops/heartbeats/<id>/``: any check, for staff."""
    return _detail(request, check_id, org=None)


@staff_required
def ops_jobs(request):
    """``/ops/jobs/``: every beat job with its newest run, lateness and state, stale ones first."""
    status = selectors.beat_jobs_status(timezone.now())
    order = {"stale": 0, "failing": 1, "late": 2, "running": 3, "never": 4, "ok": 5}
    jobs = sorted(status.jobs, key=lambda j: (order.get(j.state, 9), j.job.name))
    return render(request, "heartbeats/jobs.html", {"status": status, "jobs": jobs})


@staff_required
def ops_job_detail(request, job: str):
    """``/ops/jobs/<job>/``: one beat job's last 100 runs and a chart of their durations and start delays."""
    known = beat_jobs()
    if job not in known:
        raise Http404("No such job")
    runs = selectors.job_runs_recent(job, limit=100)
    chronological = list(reversed(runs))
    delays = [None]
    for previous, run in zip(chronological, chronological[1:], strict=False):
        expected = known[job].due_after(previous.started_at)
        delays.append(max(0.0, (run.started_at - expected).total_seconds()))
    chart = line_chart(
        title=f"{job}: duration and start delay of the last {len(runs)} runs",
        times=[r.started_at for r in chronological],
        series=[
            Series("duration (s)", [None if r.duration_ms is None else r.duration_ms / 1000 for r in chronological]),
            Series("start delay (s)", delays),
        ],
        unit=" s",
        width=900,
        height=220,
        chart_id="job-runs-chart",
    )
    status = next(j for j in selectors.beat_jobs_status(timezone.now()).jobs if j.job.name == job)
    return render(request, "heartbeats/job_detail.html", {"job": status, "runs": runs, "chart": chart})
