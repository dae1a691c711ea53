"""Receivers of other apps' signals (apps that apm imports cannot import apm, so they ask)."""

from __future__ import annotations


def incident_correlation_section(sender, *, incident, **kwargs) -> dict:
    """``incidents.signals.incident_page_sections``: ``{"correlation": …}``, the incident page's correlated
    errors and first cause (shape: ``apm.correlation.incident_correlated_errors``)."""
    from .correlation import incident_correlated_errors

    return {"correlation": incident_correlated_errors(incident)}
