"""Service health checks (claim, probe, record) and platform snapshots and retention."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction

from wedsync_ops.choices import ServiceStatus

# --- service health checks -------------------------------------------------------------


def health_checks_claim_due(*, now: dt.datetime) -> list[int]:
    """Claim the enabled health checks due at ``now`` (not in maintenance); returns their ids.

    Due: never checked, or ``last_checked_at + interval_seconds <= now``.
    Claimed by setting ``last_checked_at = now`` over rows locked with
    ``FOR UPDATE SKIP LOCKED``. Needs a staff or service context.
    """
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "UPDATE service_health_checks SET last_checked_at = %(now)s WHERE id IN ("
            " SELECT id FROM service_health_checks WHERE enabled AND status <> 'maintenance'"
            " AND (last_checked_at IS NULL OR last_checked_at + make_interval(secs => interval_seconds) <= %(now)s)"
            " ORDER BY id FOR UPDATE SKIP LOCKED) RETURNING id",
            {"now": now},
        )
        return sorted(r[0] for r in cur.fetchall())


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of one HTTP probe: ``response_ms`` in milliseconds (None when no answer came)."""

    ok: bool
    status_code: int | None
    response_ms: float | None
    error: str


def health_check_probe(*, check) -> ProbeResult:
    """Send the check's HTTP request (no database access); success is ``expected_status`` within the timeout.

    Sent by the portal's outbound client (``wedsync_ops.outbound``, trusted: staff configure checks),
    so a refused address is a failed probe naming the rule; redirects are not followed.
    """
    import time

    import requests

    from wedsync_ops.outbound import OutboundRefused, outbound_request

    started = time.perf_counter()
    try:
        response = outbound_request(check.method, check.url, timeout=check.timeout_seconds, trusted=True)
    except OutboundRefused as exc:
        return ProbeResult(False, None, None, f"refused: the URL {exc.reason}")
    except requests.Timeout:
        return ProbeResult(False, None, None, f"timed out after {check.timeout_seconds:g} s")
    except requests.RequestException as exc:
        return ProbeResult(False, None, None, f"no answer: {type(exc).__name__}")
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != check.expected_status:
        return ProbeResult(
            False, response.status_code, elapsed_ms, f"HTTP {response.status_code}, expected {check.expected_status}"
        )
    return ProbeResult(True, response.status_code, elapsed_ms, "")


def health_check_record(*, check, result: ProbeResult, now: dt.datetime):
    """Store one probe's result and move the check's status; returns the check.

    Status after the result: ``healthy`` on success; on failure
    ``warning`` while ``consecutive_failures < failure_threshold``, else
    ``critical``. A change of status writes a ``ServiceHealthTransition``
    (reason: the probe's error or "recovered"). A check in ``maintenance``
    keeps its status. Needs a context that may write the check's rows.
    """
    from ..models import ServiceHealthCheck, ServiceHealthResult, ServiceHealthTransition

    with transaction.atomic():
        check = ServiceHealthCheck.objects.select_for_update().get(pk=check.pk)
        ServiceHealthResult.objects.create(
            health_check=check,
            organization_id=check.organization_id,
            checked_at=now,
            ok=result.ok,
            status_code=result.status_code,
            response_ms=result.response_ms,
            error=result.error[:500],
        )
        check.consecutive_failures = 0 if result.ok else check.consecutive_failures + 1
        check.last_checked_at = now
        check.last_response_ms = result.response_ms
        check.last_error = result.error[:500]
        previous = check.status
        if previous != ServiceStatus.MAINTENANCE:
            if result.ok:
                check.status = ServiceStatus.HEALTHY
            elif check.consecutive_failures >= check.failure_threshold:
                check.status = ServiceStatus.CRITICAL
            else:
                check.status = ServiceStatus.WARNING
        if check.status != previous:
            check.status_changed_at = now
            ServiceHealthTransition.objects.create(
                health_check=check,
                organization_id=check.organization_id,
                from_status=previous,
                to_status=check.status,
                at=now,
                reason=(result.error or "recovered")[:500],
            )
        check.save()
    return check


# --- platform snapshots and retention ------------------------------------------------------


def system_health_snapshot_capture(*, now: dt.datetime) -> int:
    """Write one ``system_health_snapshots`` row for ``now`` (SQL ``capture_system_health_snapshot``); returns its id.

    Needs a staff or service context (raises ``django.db.DatabaseError`` otherwise).
    """
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT capture_system_health_snapshot(%s)", [now])
        return cur.fetchone()[0]


def monitoring_data_cleanup(*, now: dt.datetime) -> int:
    """Apply the platform retention at ``now`` (SQL ``cleanup_monitoring_data``); returns rows deleted.

    90 days for metrics, aggregations, error reports, health-check history
    and snapshots; one year for closed incidents. Staff or service context.
    """
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT cleanup_monitoring_data(%s)", [now])
        return cur.fetchone()[0]
