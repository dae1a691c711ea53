"""Forms of the incident pages: runbooks, opening an incident by hand, and the post-incident analysis.

Forms parse and keep what was typed; the services (``incidents.runbooks``, ``incidents.services``,
``incidents.analysis``) validate and write.
"""

from __future__ import annotations

from django import forms

from wedsync_ops.choices import AlertSeverity, WeddingImpactLevel

PRIORITIES = [
    ("p0", "p0: weddings failing now"),
    ("p1", "p1: badly degraded"),
    ("p2", "p2: degraded"),
    ("p3", "p3: minor"),
]


class RunbookForm(forms.Form):
    """A runbook: title, the labels it applies to, markdown content (each save is a new version)."""

    title = forms.CharField(max_length=200)
    service = forms.CharField(
        max_length=100, required=False, help_text="The alerts' service label it applies to; empty: any service"
    )
    alertname = forms.CharField(
        max_length=200, required=False, help_text="The alerts' alertname label it applies to; empty: any alert"
    )
    content = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "class": "runbook-editor"}),
        help_text="Markdown: headings, lists, code blocks, tables, links",
    )


class IncidentOpenForm(forms.Form):
    """An incident opened by hand from the portal (not from an alert)."""

    title = forms.CharField(max_length=500)
    organization = forms.CharField(
        max_length=100, required=False, help_text="The organization affected; empty: the platform"
    )
    priority = forms.ChoiceField(choices=PRIORITIES, initial="p2")
    severity = forms.ChoiceField(choices=[(v, v) for v in AlertSeverity.values], initial="warning")
    wedding_impact = forms.ChoiceField(
        choices=[(v, v.replace("_", " ")) for v in WeddingImpactLevel.values], initial="none", label="Wedding impact"
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, help_text="What is happening, as far as you know"
    )
