"""Signals the incidents app sends to the apps that import it (and that it does not import).

- ``incident_page_sections(sender=Incident, incident)``: the ops incident page asks for the sections
  other apps add about ``incident``. Each receiver returns a dict of template context (or None), read in
  the page request's own context (RLS applies). The apm app answers ``{"correlation": …}``: the
  incident's correlated errors and first cause (issue 18 §3, ``apm.correlation``).
"""

from django.dispatch import Signal

incident_page_sections = Signal()
