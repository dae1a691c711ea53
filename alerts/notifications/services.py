"""Notification outbox services. (Contract; the incidents/notifications helper implements.)"""


def notifications_enqueue(*, event: str, alert=None, incident=None) -> list:
    """Write one ``NotificationDelivery`` per matching channel for ``event`` in the current transaction.

    ``event`` is a ``NotificationDelivery.Event`` value. Channels: the enabled
    channels of the alert's/incident's organization plus the platform
    channels (organization NULL). Idempotent per (channel, event, alert,
    incident). Queues delivery with ``transaction.on_commit``; if Redis is
    down the rows stay pending and the ``deliver_pending`` beat sweep sends
    them later. Returns the deliveries created.
    """
    raise NotImplementedError
