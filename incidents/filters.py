"""Query filters of the incidents API (django-filter): ``?status=&priority=&wedding_impact=&organization=``."""

import django_filters

from wedsync_ops.choices import IncidentStatus, WeddingImpactLevel

from .models import Incident


class IncidentFilter(django_filters.FilterSet):
    """Exact filters; an unknown value answers 400 naming the field (``{"status": ["Select a valid choice…"]}``).

    ``organization`` is a slug (staff use it; a vendor only ever sees their own).
    """

    status = django_filters.ChoiceFilter(choices=IncidentStatus.choices)
    priority = django_filters.ChoiceFilter(choices=Incident.Priority.choices)
    wedding_impact = django_filters.ChoiceFilter(choices=WeddingImpactLevel.choices)
    organization = django_filters.CharFilter(field_name="organization__slug")

    class Meta:
        model = Incident
        fields = ["status", "priority", "wedding_impact", "organization"]
