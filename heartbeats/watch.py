"""The portal watches itself: late beat jobs raise a platform alert, and an outside URL hears from us every minute.

- ``jobs_watch(now)``: every stale beat job (``selectors.beat_jobs_status``)
  fires a critical platform alert ``BeatJobLate`` (one per job, grouped into
  one incident); a job running again resolves it. It must not depend on
  beat: Celery workers call it on their own timer
  (``heartbeats.worker.JobWatchStep`` → task ``heartbeats.tasks.watch_jobs``),
  and ``/health/ready`` can call it too.
- ``external_ping(now)``: a healthchecks.io-compatible ping of
  ``HEARTBEAT_PING_URL`` (success, or ``/fail`` listing the stale jobs), so
  someone outside notices when the whole portal stops.
"""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlsplit

import requests
from django.db import transaction

from alerts.models import AlertHistory
from alerts.services import alert_fire, alert_resolve, require_aware

from . import conf
from .selectors import JobStatus, beat_jobs_status

logger = logging.getLogger(__name__)

JOB_ALERTNAME = "BeatJobLate"
JOB_FINGERPRINT_PREFIX = "heartbeats:job:"
JOB_GROUP_KEY = f'{{}}:{{alertname="{JOB_ALERTNAME}"}}'


def job_fingerprint(job_name: str) -> str:
    """The alert identity of a late beat job: ``heartbeats:job:<entry name>`` (cut to 64 characters)."""
    return f"{JOB_FINGERPRINT_PREFIX}{job_name}"[:64]


def _job_words(status: JobStatus) -> str:
    last = "never (since recording began)"
    if status.last_started_at:
        last = f"{status.last_started_at:%Y-%m-%d %H:%M:%S} UTC"
    return f"{status.job.name} ({status.job.describe()}): last run {last}"


def jobs_watch(*, now: dt.datetime) -> dict[str, int]:
    """Fire a ``BeatJobLate`` alert for each stale beat job and resolve those of jobs running again.

    Alert: platform (organization NULL), source ``heartbeat``, critical/high,
    fingerprint ``job_fingerprint(name)``, group key ``{}:{alertname="BeatJobLate"}``
    (so a stopped beat, every job at once, is one incident); ``value`` the
    newest run's age (s), ``threshold`` twice the period (s). Idempotent:
    an open alert is only touched. Needs a service context. Returns
    ``{"stale": n, "fired": f, "resolved": r}``.
    """
    require_aware("now", now)
    status = beat_jobs_status(now)
    counts = {"stale": 0, "fired": 0, "resolved": 0}
    with transaction.atomic():
        stale_fingerprints = set()
        for job in status.stale:
            counts["stale"] += 1
            fingerprint = job_fingerprint(job.job.name)
            stale_fingerprints.add(fingerprint)
            words = _job_words(job)
            title = f"Beat job late: {job.job.name}"
            _alert, created = alert_fire(
                organization_id=None,
                fingerprint=fingerprint,
                source=AlertHistory.Source.HEARTBEAT,
                title=title,
                labels={"alertname": JOB_ALERTNAME, "job": job.job.name, "task": job.job.task, "severity": "critical"},
                annotations={
                    "summary": f"{title}: {words}",
                    "description": "Celery beat (or the workers) stopped running this job: "
                    "check that exactly one beat process runs and the workers consume.",
                },
                severity="critical",
                priority="high",
                starts_at=now,
                now=now,
                value=job.age_s,
                threshold=2 * job.period_s,
                threshold_reason="newest run older than twice the period",
                group_key=JOB_GROUP_KEY,
                description=words,
            )
            counts["fired"] += created
        running = AlertHistory.objects.filter(
            organization__isnull=True,
            source=AlertHistory.Source.HEARTBEAT,
            fingerprint__startswith=JOB_FINGERPRINT_PREFIX,
            status__in=AlertHistory.OPEN_STATUSES,
        ).exclude(fingerprint__in=stale_fingerprints)
        for alert in running:
            counts["resolved"] += alert_resolve(alert=alert, ends_at=now, now=now)[1]
    return counts


def http_ping(url: str, *, body: str, timeout_s: float) -> int:
    """POST ``body`` to ``url`` (the one outbound call of this module); returns the HTTP status.

    Raises ``requests.RequestException`` on a network error or timeout
    (``timeout_s`` seconds for connect and for read), or a refused address
    (``wedsync_ops.outbound``: staff configure it, so ``OUTBOUND_ALLOW_PRIVATE_NETWORKS`` applies).
    """
    from wedsync_ops.outbound import outbound_request

    response = outbound_request(
        "POST",
        url,
        data=body.encode(),
        timeout=timeout_s,
        headers={"User-Agent": "wedsync-ops heartbeat"},
        trusted=True,
    )
    return response.status_code


def external_ping(*, now: dt.datetime, url: str | None = None) -> dict:
    """Ping ``url`` (default ``HEARTBEAT_PING_URL``): success when every beat job runs, else ``<url>/fail``
    with one line per stale job in the body (healthchecks.io keeps it as the ping's log).

    Returns ``{"sent": bool, "status": HTTP status or None, "ok": bool, "error": str}``; an empty URL
    sends nothing; a network error is logged and returned, never raised (the next minute tries again).
    """
    require_aware("now", now)
    target = (conf.PING_URL if url is None else url).strip().rstrip("/")
    if not target:
        return {"sent": False, "status": None, "ok": True, "error": ""}
    status = beat_jobs_status(now)
    if status.ok:
        body = f"wedsync-ops at {now:%Y-%m-%dT%H:%M:%SZ}: {len(status.jobs)} beat jobs running"
    else:
        target = f"{target}/fail"
        body = "\n".join(["wedsync-ops: beat jobs late"] + [_job_words(j) for j in status.stale])
    try:
        code = http_ping(target, body=body, timeout_s=conf.PING_TIMEOUT_S)
    except requests.RequestException as exc:
        # The URL's path is its secret (the check's uuid): log the host only.
        logger.warning("heartbeat ping to %s failed: %s", urlsplit(target).netloc, type(exc).__name__)
        return {"sent": False, "status": None, "ok": status.ok, "error": type(exc).__name__}
    return {"sent": True, "status": code, "ok": status.ok, "error": ""}
