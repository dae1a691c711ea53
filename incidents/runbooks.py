"""Runbooks: markdown rendered to sanitized HTML, versioned.

Rendering: Python-Markdown (``markdown``; extensions ``fenced_code``,
``tables``, ``sane_lists``) then ``nh3.clean`` (the Rust ``ammonia``
sanitizer) with its default allow-list: scripts, event-handler attributes,
``style`` and ``javascript:`` URLs are removed; links get
``rel="noopener noreferrer"``.
"""

from __future__ import annotations

import datetime as dt

import markdown as md
import nh3
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import Runbook, RunbookVersion

MAX_CONTENT_CHARS = 200_000


def runbook_render(content: str) -> str:
    """Markdown ``content`` → sanitized HTML (str); see the module docstring."""
    html = md.markdown(content or "", extensions=["fenced_code", "tables", "sane_lists"], output_format="html")
    return nh3.clean(html, link_rel="noopener noreferrer")


def runbook_save(
    *,
    title: str,
    content: str,
    by,
    now: dt.datetime,
    runbook: Runbook | None = None,
    organization=None,
    service: str = "",
    alertname: str = "",
) -> Runbook:
    """Create a runbook (``runbook`` None) or save a new version of one; returns it.

    A new runbook is version 1; each save of a changed title or content
    increments ``version`` and keeps the text in ``RunbookVersion`` (an
    unchanged save writes no version). ``content_html`` is re-rendered.
    ``service``/``alertname``: the labels it matches (empty: any).
    ``organization`` is used on creation only (None: a platform runbook).
    Raises ValidationError naming ``title``, ``content`` (empty or longer
    than 200,000 characters) or ``now`` (naive).
    """
    if now is None or timezone.is_naive(now):
        raise ValidationError({"now": "an aware datetime is required"})
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "a title is required"
    if not (content or "").strip():
        errors["content"] = "the runbook is empty"
    elif len(content) > MAX_CONTENT_CHARS:
        errors["content"] = f"longer than {MAX_CONTENT_CHARS} characters"
    if errors:
        raise ValidationError(errors)
    author = by if getattr(by, "pk", None) else None
    with transaction.atomic():
        if runbook is None:
            runbook = Runbook(
                organization_id=getattr(organization, "pk", None),
                version=1,
                created_at=now,
            )
            changed = True
        else:
            runbook = Runbook.objects.select_for_update().get(pk=runbook.pk)
            changed = (runbook.title, runbook.content) != (title, content)
            if changed:
                runbook.version += 1
        runbook.title = title[:200]
        runbook.content = content
        runbook.content_html = runbook_render(content)
        runbook.service = (service or "").strip()[:100]
        runbook.alertname = (alertname or "").strip()[:200]
        runbook.updated_by = author
        runbook.updated_at = now
        runbook.save()
        if changed:
            RunbookVersion.objects.create(
                organization_id=runbook.organization_id,
                runbook=runbook,
                version=runbook.version,
                title=runbook.title,
                content=content,
                author=author,
                created_at=now,
            )
    return runbook
