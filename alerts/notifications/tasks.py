"""Celery tasks of the notification outbox: thin wrappers over ``alerts.notifications.services``.

The services open their own short service-context transactions (claim,
then record) so that the claim is committed before the HTTP request and no
transaction stays open while a receiver answers; the tasks therefore call
them outside any transaction.
"""

from celery import shared_task
from django.utils import timezone

from .services import deliveries_sweep, delivery_attempt, notifications_repeat


@shared_task(name="alerts.notifications.tasks.deliver_notification", ignore_result=True)
def deliver_notification(delivery_id: str) -> str | None:
    """Attempt delivery ``delivery_id`` now (queued on commit by ``notifications_enqueue``).

    Returns the delivery's status afterwards, or None when it was not due or
    another worker had claimed it.
    """
    delivery = delivery_attempt(delivery_id=delivery_id, now=timezone.now())
    return delivery.status if delivery is not None else None


@shared_task(name="alerts.notifications.tasks.deliver_pending", ignore_result=True)
def deliver_pending() -> dict:
    """Beat sweep (every 30 s): attempt every due delivery, including those whose queue message was lost.

    Returns the counts of ``deliveries_sweep``.
    """
    return deliveries_sweep(now=timezone.now())


@shared_task(name="alerts.notifications.tasks.repeat_notifications", ignore_result=True)
def repeat_notifications() -> int:
    """Beat (every 5 min): re-queue the notifications of alerts firing for ``REPEAT_INTERVAL_S`` (repeat_interval)."""
    return notifications_repeat(now=timezone.now())
