"""Organization dashboards: widget validation and saving."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError

from ..validation import METRIC_NAME_MAX_LENGTH, SERVICE_MAX_LENGTH, check_text

# --- dashboards ---------------------------------------------------------------------------

DASHBOARD_AGGREGATIONS = ("avg", "p50", "p95", "p99", "min", "max", "count", "sum")
# Widget windows and the aggregation width drawn for each, in seconds.
DASHBOARD_WINDOWS = {
    "1h": (dt.timedelta(hours=1), 60),
    "24h": (dt.timedelta(hours=24), 3600),
    "7d": (dt.timedelta(days=7), 3600),
}
DASHBOARD_CHARTS = ("line", "bar")
DASHBOARD_MAX_WIDGETS = 24


def dashboard_validate_widgets(widgets) -> list[dict]:
    """The widgets, normalised; raises ValidationError ``{"widgets": [reasons]}`` naming ``widgets[i].field``."""
    if not isinstance(widgets, list):
        raise ValidationError({"widgets": ["must be a list of widgets"]})
    if len(widgets) > DASHBOARD_MAX_WIDGETS:
        raise ValidationError({"widgets": [f"at most {DASHBOARD_MAX_WIDGETS} widgets (got {len(widgets)})"]})
    errors, clean = [], []
    allowed = {"title", "service", "metric", "aggregation", "window", "chart"}
    for i, widget in enumerate(widgets):
        if not isinstance(widget, dict):
            errors.append(f"widgets[{i}]: must be an object")
            continue
        for key in sorted(set(widget) - allowed):
            errors.append(f"widgets[{i}].{key[:50]}: unknown field")
        for key, limit in (("service", SERVICE_MAX_LENGTH), ("metric", METRIC_NAME_MAX_LENGTH), ("title", 200)):
            value = widget.get(key, "" if key == "title" else None)
            if value is None:
                errors.append(f"widgets[{i}].{key}: is required")
            elif reason := check_text(value, max_length=limit, required=key != "title"):
                errors.append(f"widgets[{i}].{key}: {reason}")
        for key, options, default in (
            ("aggregation", DASHBOARD_AGGREGATIONS, "p95"),
            ("window", tuple(DASHBOARD_WINDOWS), "24h"),
            ("chart", DASHBOARD_CHARTS, "line"),
        ):
            if widget.get(key, default) not in options:
                errors.append(f"widgets[{i}].{key}: must be one of {', '.join(options)}")
        clean.append(
            {
                "title": widget.get("title") or "",
                "service": widget.get("service"),
                "metric": widget.get("metric"),
                "aggregation": widget.get("aggregation", "p95"),
                "window": widget.get("window", "24h"),
                "chart": widget.get("chart", "line"),
            }
        )
    if errors:
        raise ValidationError({"widgets": errors})
    return clean


def dashboard_save(*, organization, name: str, widgets, by, dashboard=None):
    """Create (``dashboard`` None) or update a dashboard of ``organization``; returns it.

    Raises ValidationError naming ``name`` (empty or over 200 characters)
    or ``widgets`` (see ``dashboard_validate_widgets``). The caller checks
    that ``by`` may edit (an org owner/admin or staff: ``apm.views``).
    """
    from django.utils import timezone

    from ..models import ApmDashboard

    errors = {}
    name = (name or "").strip()
    if not name or len(name) > 200:
        errors["name"] = ["must be 1 to 200 characters"]
    try:
        widgets = dashboard_validate_widgets(widgets)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if dashboard is None:
        dashboard = ApmDashboard(organization=organization)
    dashboard.name, dashboard.widgets, dashboard.updated_by = name, widgets, by
    dashboard.updated_at = timezone.now()
    dashboard.save()
    return dashboard
