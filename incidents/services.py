"""Incident state changes. (Contract; the incidents helper implements.)"""


def incident_open_from_alert(*, alert):
    """Open (or return the already linked) incident for ``alert`` via SQL ``create_incident_from_alert(uuid)``.

    Wedding-day protocol on for the alert's organization (local wedding day
    or Saturday): a ``p0`` incident titled ``WEDDING DAY: <title>`` with
    ``wedding_impact = wedding_day_critical``, linked to the day's wedding.
    Otherwise a ``p1`` incident. Writes the ``incident.opened`` notifications
    in the same transaction. Returns the Incident.
    """
    raise NotImplementedError
