"""Notification channels: create, configure, delete, disable and enable (holding and releasing their
deliveries), a test notification, and re-encryption of their configurations. Public through
``notifications.services``."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import connection, transaction

from wedsync_ops.tenancy.context import service_context

from .. import conf, signals
from ..models import NotificationChannel, NotificationDelivery
from . import publish

Status = NotificationDelivery.Status


def channel_create(
    *, organization_id: uuid.UUID | None, kind: str, name: str, config: dict, wedding_day_emergency: bool = False
) -> NotificationChannel:
    """Create a channel (validated by the caller's form: kind, target, secret). Returns it."""
    return NotificationChannel.objects.create(  # type: ignore[misc]  # an encrypted JSON field: the stubs see its text column
        organization_id=organization_id,
        kind=kind,
        name=name[:100],
        config=config,
        wedding_day_emergency=wedding_day_emergency,
    )


def channel_update_config(*, channel: NotificationChannel, config: dict) -> NotificationChannel:
    """Replace a channel's configuration (validated by the caller's form), encrypted at rest; returns it."""
    channel.config = config  # type: ignore[assignment]  # as above
    with service_context():
        channel.save(update_fields=["config"])
    return channel


def channel_delete(*, channel: NotificationChannel) -> None:
    """Delete a channel with its deliveries and attempts (its organization's history of it goes too)."""
    channel.delete()


def channel_disable(*, channel: NotificationChannel, reason: str, now: dt.datetime, by_person: bool = True) -> bool:
    """Disable an enabled channel; returns True if this call disabled it.

    ``reason`` is kept in ``disabled_reason`` (shown to the channel's organization: a fixed text,
    never a receiver's response body). Its pending deliveries become ``held``. Unless ``by_person``,
    ``signals.channel_disabled`` is sent (the alerts app raises a platform alert through the other
    channels). Runs in a service context, in one transaction.
    """
    with service_context(), transaction.atomic():
        changed = NotificationChannel.objects.filter(pk=channel.pk, enabled=True).update(
            enabled=False, disabled_reason=reason[:500], disabled_at=now
        )
        if not changed:
            return False
        NotificationDelivery.objects.filter(channel_id=channel.pk, status=Status.PENDING).update(
            status=Status.HELD, last_error="held: channel disabled"
        )
        channel.enabled, channel.disabled_reason, channel.disabled_at = False, reason[:500], now
        if not by_person:
            signals.channel_disabled.send(sender=NotificationChannel, channel=channel, reason=reason, now=now)
    return True


def channel_enable(*, channel: NotificationChannel, now: dt.datetime) -> dict[str, int]:
    """Enable a channel and release what it held; returns ``{"released": n, "expired": m}``.

    Held deliveries created within ``conf.HELD_MAX_AGE_S`` go back to ``pending`` at ``now`` (and are
    queued on commit); older ones are ``cancelled`` ("held too long"). Sends
    ``signals.channel_enabled``. Runs in a service context, in one transaction.
    """
    cutoff = now - dt.timedelta(seconds=conf.HELD_MAX_AGE_S)
    with service_context(), transaction.atomic():
        NotificationChannel.objects.filter(pk=channel.pk).update(enabled=True, disabled_reason="", disabled_at=None)
        held = NotificationDelivery.objects.filter(channel_id=channel.pk, status=Status.HELD)
        expired = held.filter(created_at__lt=cutoff).update(
            status=Status.CANCELLED, last_error=f"held longer than {conf.HELD_MAX_AGE_S // 3600} h while disabled"
        )
        released = list(held.values_list("pk", flat=True))
        NotificationDelivery.objects.filter(pk__in=released).update(
            status=Status.PENDING, next_attempt_at=now, attempts=0, claimed_until=None, last_error=""
        )
        channel.enabled, channel.disabled_reason, channel.disabled_at = True, "", None
        signals.channel_enabled.send(sender=NotificationChannel, channel=channel, now=now)
    if released:
        transaction.on_commit(lambda: publish(released), robust=True)
    return {"released": len(released), "expired": expired}


def channel_test(
    *, channel: NotificationChannel, now: dt.datetime, organization_slug: str | None = None, rate_limited: bool = False
) -> tuple[bool, str]:
    """A test notification to ``channel`` now (``notifications.delivery.channel_send_test``); ``(ok, message)``.

    ``rate_limited``: a vendor's button, at most ``notifications.conf.TEST_RATE`` per channel (a moving
    window in Redis; a limiter outage lets the test through): over it, ``(False, "Too many tests …")``
    and nothing is sent.
    """
    from notifications.delivery import channel_send_test

    if rate_limited and not _test_allowed(channel):
        return False, f"Too many tests of {channel.name!r}: try again in a few minutes."
    return channel_send_test(channel=channel, now=now, organization_slug=organization_slug)


def _test_allowed(channel) -> bool:
    """Whether the per-channel test rate (``conf.TEST_RATE``) allows one more test now; True when Redis is down."""
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import MovingWindowRateLimiter

    from notifications import conf

    try:
        limiter = MovingWindowRateLimiter(storage_from_string(conf.RATE_REDIS_URL))
        return limiter.hit(parse(conf.TEST_RATE), "channel-test", str(channel.pk))
    except Exception:  # noqa: BLE001 - a limiter outage must not stop a vendor checking their channel
        return True


def channel_configs_reencrypt(*, batch_size: int = 500, progress=None) -> int:
    """Re-encrypt every channel's configuration under the newest key; returns how many rows were rewritten.

    Batches of ``batch_size`` rows, one transaction each, rows locked while rewritten;
    ``progress(done, total)`` after each batch. Raises ``wedsync_ops.crypto.CredentialsError`` (that
    batch rolled back) for a configuration no configured key decrypts. Runs in a service context.
    """
    from wedsync_ops.crypto import rotate_token

    with service_context():
        ids = list(NotificationChannel.objects.order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), batch_size):
        with service_context(), transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "SELECT id, config_encrypted FROM notification_channels WHERE id = ANY(%s::uuid[])"
                " AND config_encrypted <> '' ORDER BY id FOR UPDATE",
                [[str(i) for i in ids[start : start + batch_size]]],
            )
            for pk, token in cur.fetchall():
                cur.execute(
                    "UPDATE notification_channels SET config_encrypted = %s WHERE id = %s", [rotate_token(token), pk]
                )
                done += 1
        if progress:
            progress(done, len(ids))
    return done
