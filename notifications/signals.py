"""Signals the notifications app sends to the apps above it (which it does not import).

- ``delivery_failed(sender=NotificationDelivery, delivery, now)``: a delivery became ``failed``
  (attempts used up, or its channel cannot work). The incidents app records it on the incident's
  timeline; the Saturday dashboard lists failed deliveries.
- ``channel_disabled(sender=NotificationChannel, channel, reason, now)``: a channel was disabled by
  a permanent or sustained error (not by a person). The alerts app raises a platform alert, which
  routing sends through the other channels.
- ``channel_enabled(sender=NotificationChannel, channel, now)``: a channel was enabled again; the
  alert raised for it resolves.

Receivers run inside the sender's transaction (so a rollback undoes both) and in a service context.
"""

from django.dispatch import Signal

delivery_failed = Signal()
channel_disabled = Signal()
channel_enabled = Signal()
