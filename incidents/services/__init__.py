"""Incident services: every write of the incidents app's tables goes through one of these.

``lifecycle``: the status lifecycle, opening by hand, assignment, notes, merging. ``opening``: how
alerts and critical error patterns open, join, reopen, mute and resolve incidents.
"""

from .lifecycle import (
    TRANSITIONS,
    incident_acknowledge,
    incident_assign,
    incident_close,
    incident_create,
    incident_investigate,
    incident_merge,
    incident_note_add,
    incident_reopen,
    incident_resolve,
)
from .opening import (
    incident_alerts_changed,
    incident_group_key,
    incident_open_from_alert,
    incident_open_from_error_pattern,
    incidents_open_from_alerts,
)

__all__ = [
    "TRANSITIONS",
    "incident_acknowledge",
    "incident_alerts_changed",
    "incident_assign",
    "incident_close",
    "incident_create",
    "incident_group_key",
    "incident_investigate",
    "incident_merge",
    "incident_note_add",
    "incident_open_from_alert",
    "incident_open_from_error_pattern",
    "incident_reopen",
    "incident_resolve",
    "incidents_open_from_alerts",
]
