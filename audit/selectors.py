"""Reads of the audit trail for the history pages and sections (RLS applies: run in the request's context)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models

from .models import EVENT_MODELS

# Columns whose changes are bookkeeping, not decisions: left out of the "what changed" lists.
QUIET_FIELDS = frozenset({"updated_at", "created_at", "last_escalated_at", "escalation_clock_at"})
HISTORY_LIMIT = 50


def actor_label(context: dict | None) -> str:
    """Who did it, from an event's ``pgh_context``: ``"alice"``, ``"integration alertmanager:prod"``,
    ``"API key ingest (wsk_ab…)"``, ``"job incidents.escalate"`` (a Celery task), or ``"system"`` (SQL
    run without a context: migrations, psql, the platform's other systems)."""
    context = context or {}
    if context.get("username"):
        return str(context["username"])
    if context.get("integration"):
        return f"integration {context['integration']}"
    if context.get("api_key"):
        return f"API key {context['api_key']}"
    if context.get("user"):
        return f"user #{context['user']}"
    if context.get("job"):
        return f"job {context['job']}"
    return "system"


@dataclass(frozen=True)
class HistoryRow:
    """One event: ``at`` (aware datetime), ``label`` (insert/update/delete), ``actor`` (``actor_label``),
    ``url`` (the request path or ""), ``changes``: ``[(field verbose name, old, new)]`` for an update."""

    at: dt.datetime
    label: str
    actor: str
    url: str
    changes: list[tuple[str, str, str]]


def tracked(model: models.Model | type[models.Model]) -> bool:
    """Whether ``model`` (a class or instance) has an audit trail."""
    return (model if isinstance(model, type) else type(model))._meta.concrete_model in EVENT_MODELS


def _value(field: models.Field | None, value) -> str:
    if value is None or value == "":
        return "—"
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def object_history(obj: models.Model, *, limit: int = HISTORY_LIMIT) -> list[HistoryRow]:
    """The newest ``limit`` events of ``obj``, newest first, with what changed in each update.

    One query on the object's event table (plus one for the event before the oldest shown, to
    diff it). Raises KeyError for a model without an audit trail (see ``tracked``).
    """
    concrete = type(obj)._meta.concrete_model
    if concrete is None:  # only abstract models have none, and they have no rows
        raise KeyError(type(obj).__name__)
    event_model = EVENT_MODELS[concrete]
    fields = [f for f in event_model._meta.concrete_fields if not f.name.startswith("pgh_")]
    source_fields = {f.attname: f for f in type(obj)._meta.concrete_fields}
    names = [f.attname for f in fields]
    events = list(
        event_model.objects.filter(pgh_obj_id=obj.pk)
        .order_by("-pgh_id")
        .values("pgh_id", "pgh_created_at", "pgh_label", "pgh_context", *names)[: limit + 1]
    )
    rows = []
    for i, event in enumerate(events[:limit]):
        before = events[i + 1] if i + 1 < len(events) else None
        changes = []
        if event["pgh_label"] == "update" and before is not None:
            for name in names:
                if name in QUIET_FIELDS or event[name] == before[name]:
                    continue
                field = source_fields.get(name)
                label = str(field.verbose_name) if field is not None else name
                changes.append((label, _value(field, before[name]), _value(field, event[name])))
        context = event["pgh_context"] or {}
        rows.append(
            HistoryRow(
                at=event["pgh_created_at"],
                label=event["pgh_label"],
                actor=actor_label(context),
                url=str(context.get("url") or ""),
                changes=changes,
            )
        )
    return rows
