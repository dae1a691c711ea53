"""Celery tasks of the notification outbox: thin wrappers over ``notifications.delivery``.

``delivery_send`` opens its own short service-context transactions (claim, then record) so the claim
is committed before the HTTP request and no transaction stays open while a receiver answers; the
tasks therefore call it outside any transaction. Task names are stable strings (queues route by them).
"""

from celery import shared_task
from django.utils import timezone

from .delivery import deliveries_sweep, delivery_send


@shared_task(name="notifications.tasks.deliver_notification", ignore_result=True)
def deliver_notification(delivery_id: str) -> str | None:
    """Send delivery ``delivery_id`` now (queued on commit by ``notification_enqueue``).

    Returns the delivery's status afterwards, or None when it was not due or another worker had claimed it.
    """
    delivery = delivery_send(delivery_id=delivery_id, now=timezone.now())
    return delivery.status if delivery is not None else None


@shared_task(name="notifications.tasks.deliver_notifications", ignore_result=True)
def deliver_notifications(delivery_ids: list[str]) -> dict:
    """Send each of ``delivery_ids`` now, one after another (queued in chunks by ``publish``).

    Returns ``{status: count}`` of the deliveries afterwards (``"skipped"``: not due or taken by another).
    """
    counts: dict[str, int] = {}
    for delivery_id in delivery_ids:
        delivery = delivery_send(delivery_id=delivery_id, now=timezone.now())
        status = delivery.status if delivery is not None else "skipped"
        counts[status] = counts.get(status, 0) + 1
    return counts


@shared_task(name="notifications.tasks.deliver_pending", ignore_result=True)
def deliver_pending() -> dict:
    """Beat sweep (every 30 s): send every due delivery, including those whose queue message was lost.

    Returns the counts of ``deliveries_sweep``.
    """
    return deliveries_sweep(now=timezone.now())
