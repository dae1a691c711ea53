"""Template tags that show business impact on other apps' pages (the incident page, the Saturday dashboard),
so those templates change by one include or one line: ``{% load business %}``."""

from django import template
from django.utils import timezone

from business.impact import impact_window, incidents_business_impact, organization_impact

register = template.Library()


@register.simple_tag
def incident_business_impact(incident):
    """``{% incident_business_impact incident as impact %}``: the incident's ``business.impact.Impact`` now
    (None for a platform-wide incident). One query, under the page's RLS context."""
    if incident is None or incident.organization_id is None:
        return None
    start, end = impact_window(detected_at=incident.detected_at, resolved_at=incident.resolved_at, now=timezone.now())
    return organization_impact(organization_id=incident.organization_id, start=start, end=end)


@register.simple_tag
def business_impacts(incidents):
    """``{% business_impacts rows as impacts %}``: ``{incident id: Impact}`` for a list, in one query."""
    return incidents_business_impact(incidents=list(incidents or []), now=timezone.now())


@register.filter
def impact_of(impacts, incident):
    """``impacts|impact_of:inc``: that incident's Impact from ``business_impacts``, or None."""
    return (impacts or {}).get(getattr(incident, "id", None))
