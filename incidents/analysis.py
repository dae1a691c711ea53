"""Post-incident analysis: a draft from a template, edited, then published.

A published analysis is what lets a ``p0``/``p1`` incident close
(``incidents.services.incident_close``).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alerts.models import AlertHistory

from .models import Incident, IncidentUpdate, PostIncidentAnalysis

EDITABLE = (
    "summary",
    "impact_description",
    "weddings_affected",
    "organizations_affected",
    "impact_minutes",
    "root_cause",
    "contributing_factors",
    "action_items",
)


def _require_aware(now) -> None:
    if now is None or timezone.is_naive(now):
        raise ValidationError({"now": "an aware datetime is required"})


def analysis_timeline(incident: Incident) -> list[dict]:
    """The incident's timeline as ``[{"at": ISO 8601, "kind", "message", "author": username | None}]``, oldest first."""
    rows = IncidentUpdate.objects.filter(incident_id=incident.pk).select_related("author").order_by("created_at", "id")
    return [
        {
            "at": u.created_at.isoformat(),
            "kind": u.kind,
            "message": u.message,
            "author": u.author.get_username() if u.author_id else None,
        }
        for u in rows
    ]


def analysis_start(*, incident: Incident, by, now: dt.datetime) -> PostIncidentAnalysis:
    """The incident's analysis, created as a draft from the template if it has none; returns it.

    Template: ``impact_minutes`` = (``resolved_at`` or ``now``) − ``detected_at``
    in whole minutes; ``weddings_affected`` = 1 with a linked wedding, else 0;
    ``organizations_affected`` = distinct organizations of the incident and
    its alerts (at least 1 for an organization's incident); ``timeline``
    pulled from ``incident_updates``; ``summary`` empty (the page prompts for it). Also
    writes an internal ``analysis`` timeline row. Idempotent.
    """
    _require_aware(now)
    with transaction.atomic():
        existing = PostIncidentAnalysis.objects.filter(incident_id=incident.pk).first()
        if existing is not None:
            return existing
        end = incident.resolved_at or now
        orgs = set(
            AlertHistory.objects.filter(incident_id=incident.pk)
            .exclude(organization__isnull=True)
            .values_list("organization_id", flat=True)
        )
        if incident.organization_id:
            orgs.add(incident.organization_id)
        analysis = PostIncidentAnalysis.objects.create(
            organization_id=incident.organization_id,
            incident=incident,
            summary="",  # the page shows what to write as a placeholder; a placeholder is never a value
            impact_minutes=max(0, int((end - incident.detected_at).total_seconds() // 60)),
            weddings_affected=1 if incident.wedding_id else 0,
            organizations_affected=len(orgs),
            timeline=analysis_timeline(incident),
            author=by if getattr(by, "pk", None) else None,
            created_at=now,
            updated_at=now,
        )
        IncidentUpdate.objects.create(
            organization_id=incident.organization_id,
            incident=incident,
            kind=IncidentUpdate.Kind.ANALYSIS,
            message="Post-incident analysis started",
            author=analysis.author,
            created_at=now,
        )
    return analysis


def _validate_action_items(items) -> list[dict]:
    if not isinstance(items, list):
        raise ValidationError({"action_items": "must be a list"})
    clean = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationError({"action_items": f"item {i + 1}: must be an object"})
        description = str(item.get("description", "")).strip()
        owner = str(item.get("owner", "")).strip()
        due = str(item.get("due_date", "")).strip()
        if not description:
            raise ValidationError({"action_items": f"item {i + 1}: description is required"})
        if not owner:
            raise ValidationError({"action_items": f"item {i + 1}: owner is required"})
        try:
            dt.date.fromisoformat(due)
        except ValueError:
            raise ValidationError({"action_items": f"item {i + 1}: due_date must be YYYY-MM-DD"}) from None
        clean.append({"description": description, "owner": owner, "due_date": due, "done": bool(item.get("done"))})
    return clean


def analysis_update(*, analysis: PostIncidentAnalysis, by, now: dt.datetime, **fields) -> PostIncidentAnalysis:
    """Edit a draft's fields (``EDITABLE`` names only); returns it.

    ``action_items``: list of ``{"description", "owner", "due_date":
    "YYYY-MM-DD", "done"}``, each required but ``done``. Raises
    ValidationError naming the field: an unknown field, a bad action item,
    a negative count, or ``status`` when the analysis is already published.
    """
    _require_aware(now)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: "not an editable field" for name in sorted(unknown)})
    if "action_items" in fields:
        fields["action_items"] = _validate_action_items(fields["action_items"])
    for name in ("weddings_affected", "organizations_affected", "impact_minutes"):
        if name in fields:
            try:
                fields[name] = int(fields[name])
            except (TypeError, ValueError):
                raise ValidationError({name: "must be a whole number"}) from None
            if fields[name] < 0:
                raise ValidationError({name: "must not be negative"})
    with transaction.atomic():
        locked = PostIncidentAnalysis.objects.select_for_update().get(pk=analysis.pk)
        if locked.status == PostIncidentAnalysis.Status.PUBLISHED:
            raise ValidationError({"status": "a published analysis cannot be edited"})
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.updated_at = now
        locked.save()
    return locked


def analysis_publish(*, analysis: PostIncidentAnalysis, by, now: dt.datetime) -> PostIncidentAnalysis:
    """Publish a draft: the timeline is pulled again from ``incident_updates``; returns it.

    Requires a ``summary`` changed from the template, a ``root_cause`` and at
    least one action item. Raises ValidationError naming each missing field,
    or ``status`` when already published. Writes an internal ``analysis``
    timeline row.
    """
    _require_aware(now)
    with transaction.atomic():
        locked = PostIncidentAnalysis.objects.select_for_update().select_related("incident").get(pk=analysis.pk)
        if locked.status == PostIncidentAnalysis.Status.PUBLISHED:
            raise ValidationError({"status": "already published"})
        errors = {}
        if not locked.summary.strip() or locked.summary.startswith("What happened, in two or three sentences."):
            errors["summary"] = "write the summary"
        if not locked.root_cause.strip():
            errors["root_cause"] = "the root cause is required"
        if not locked.action_items:
            errors["action_items"] = "at least one action item with an owner and a due date"
        if errors:
            raise ValidationError(errors)
        IncidentUpdate.objects.create(
            organization_id=locked.organization_id,
            incident=locked.incident,
            kind=IncidentUpdate.Kind.ANALYSIS,
            message=f"Post-incident analysis published by {by.get_username() if by is not None else 'the system'}",
            author=by if getattr(by, "pk", None) else None,
            created_at=now,
        )
        locked.timeline = analysis_timeline(locked.incident)
        locked.status = PostIncidentAnalysis.Status.PUBLISHED
        locked.published_at = now
        locked.updated_at = now
        locked.save()
    return locked
