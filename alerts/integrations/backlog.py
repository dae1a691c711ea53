"""Parked payloads of integrations over their rate limit, ingested later in arrival order.

Over its limit (``alerts.integrations.ratelimit``) a validated payload is not
refused but parked in ``integration_backlog`` (one INSERT, answered 202), and
so is every later payload of that integration while any is parked: a
resolution never overtakes its firing. ``integration_backlog_drain`` (the
``alerts.tasks.drain_integration_backlog`` task, queued on commit of a park and
swept by beat every 10 s) ingests them oldest first, one integration at a time
(a transaction-level advisory lock per integration), each with the ``now`` it
arrived at, through the same ``alerts.integrations.kinds`` code an inline
payload takes. The limit thus bounds what one integration makes the web
tier do; nothing posted is dropped. Past ``INTEGRATION_BACKLOG_MAX`` parked
payloads of one integration, ``BacklogFull`` makes the endpoint answer 503
with ``Retry-After``: the sender keeps the alerts and retries.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction

from alerts import conf
from alerts.models import AlertIntegration, IntegrationBacklog
from wedsync_ops.tenancy.context import service_context

logger = logging.getLogger(__name__)

# A payload whose ingestion failed this many times is given up (logged at ERROR with its id): a bug, not load.
MAX_ATTEMPTS = 5


class BacklogFull(Exception):
    """The integration has ``INTEGRATION_BACKLOG_MAX`` payloads parked already; ``retry_after_s`` (s) to wait."""

    def __init__(self, retry_after_s: int):
        super().__init__(f"more than {conf.INTEGRATION_BACKLOG_MAX} payloads of this integration are waiting")
        self.retry_after_s = retry_after_s


def integration_backlog_pending(*, integration: AlertIntegration) -> bool:
    """Whether any payload of ``integration`` is parked (then new ones must queue behind it)."""
    with service_context():
        return IntegrationBacklog.objects.filter(integration=integration).exists()


def integration_payload_park(
    *, integration: AlertIntegration, body: bytes, alerts: int, received_at: dt.datetime
) -> IntegrationBacklog:
    """Park one validated payload (raw ``body`` bytes, ``alerts`` in it) and queue a drain after commit.

    Raises BacklogFull when ``INTEGRATION_BACKLOG_MAX`` payloads of the integration are parked already.
    """
    with service_context():
        waiting = IntegrationBacklog.objects.filter(integration=integration).count()
        if waiting >= conf.INTEGRATION_BACKLOG_MAX:
            raise BacklogFull(retry_after_s=conf.INTEGRATION_RATE_LIMIT_WINDOW_S)
        parked = IntegrationBacklog.objects.create(
            integration=integration,
            organization_id=integration.organization_id,
            body=body,
            alerts=alerts,
            received_at=received_at,
        )
        transaction.on_commit(_queue_drain)
    logger.info("integration %s over its rate limit: payload of %d alerts parked", integration.pk, alerts)
    return parked


def _queue_drain() -> None:
    from alerts.tasks import drain_integration_backlog

    try:
        drain_integration_backlog.delay()
    except Exception as exc:  # noqa: BLE001 - broker down: the beat sweep drains it
        logger.warning("could not queue the backlog drain (%s); the beat sweep will", type(exc).__name__)


def integration_backlog_drain(*, limit: int = 500, batch: int = 50) -> dict:
    """Ingest up to ``limit`` parked payloads, oldest first per integration; returns counts.

    Returns ``{"ingested": n, "failed": f, "dropped": d, "busy": b}``: ``busy``
    counts integrations whose backlog another drain holds. Payloads are taken
    ``batch`` at a time per transaction (its notifications go out at its
    commit); each is ingested and deleted under its own savepoint. A failure
    rolls that payload back, records the error and ends that integration's
    turn (order is kept); after ``MAX_ATTEMPTS`` failures the payload is
    dropped with an ERROR log line.
    """
    from alerts.integrations.kinds import KINDS

    counts = {"ingested": 0, "failed": 0, "dropped": 0, "busy": 0}
    with service_context():
        integration_ids = list(
            IntegrationBacklog.objects.order_by().values_list("integration_id", flat=True).distinct()
        )
    for integration_id in integration_ids:
        turn_over = False
        while not turn_over and counts["ingested"] < limit:
            with service_context():
                if not _try_lock(integration_id):
                    counts["busy"] += 1
                    break
                integration = AlertIntegration.objects.get(pk=integration_id)
                kind = KINDS[integration.kind]
                entries = list(IntegrationBacklog.objects.filter(integration_id=integration_id).order_by("id")[:batch])
                turn_over = len(entries) < batch
                for entry in entries:
                    if not _ingest(entry, integration, kind, counts):
                        turn_over = True
                        break
    return counts


def _ingest(entry: IntegrationBacklog, integration: AlertIntegration, kind, counts: dict) -> bool:
    """Ingest and delete one parked payload; False when it failed (and the integration's turn ends)."""
    try:
        with transaction.atomic():
            parsed = kind.parse(bytes(entry.body), integration)
            kind.receive(integration, parsed, entry.received_at)
            IntegrationBacklog.objects.filter(pk=entry.pk).delete()
    except Exception as exc:  # noqa: BLE001 - one bad payload must not stop the others' drain
        counts["failed"] += 1
        if entry.attempts + 1 >= MAX_ATTEMPTS:
            logger.error("parked payload %s dropped after %d failed attempts: %s", entry.pk, MAX_ATTEMPTS, exc)
            IntegrationBacklog.objects.filter(pk=entry.pk).delete()
            counts["dropped"] += 1
            return True
        IntegrationBacklog.objects.filter(pk=entry.pk).update(
            attempts=entry.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:1000]
        )
        return False
    counts["ingested"] += 1
    return True


def _try_lock(integration_id) -> bool:
    """Take the transaction-level advisory lock of one integration's backlog, without waiting."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [f"integration-backlog:{integration_id}"]
        )
        return cur.fetchone()[0]
