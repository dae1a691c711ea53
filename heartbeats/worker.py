"""A Celery worker bootstep that watches beat from the worker side: no beat needed to notice beat stopped.

Every ``HEARTBEAT_JOB_WATCH_S`` seconds (default 60; 0 turns it off) the
worker's own timer queues ``heartbeats.tasks.watch_jobs`` (expiring after one
period, so a backlog never replays stale watches), which fires or resolves
the ``BeatJobLate`` alerts (``heartbeats.watch.jobs_watch``). Registered by
``wedsync_ops/celery.py`` with ``app.steps["worker"].add(...)``. Several
workers each queue it; ``alert_fire`` makes the repeats harmless.
"""

from __future__ import annotations

import logging

from celery import bootsteps

logger = logging.getLogger(__name__)

WATCH_TASK = "heartbeats.tasks.watch_jobs"


class JobWatchStep(bootsteps.StartStopStep):
    """Start a repeating timer on the worker that queues ``WATCH_TASK``; cancel it on stop."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker):
        from heartbeats import conf

        if conf.JOB_WATCH_S <= 0:
            return
        self.tref = worker.timer.call_repeatedly(conf.JOB_WATCH_S, self.queue_watch, (worker,), priority=10)
        self.queue_watch(worker)

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    def queue_watch(self, worker):
        """Queue one watch (errors are logged: a broker hiccup must not stop the worker)."""
        from heartbeats import conf

        try:
            worker.app.send_task(WATCH_TASK, expires=max(conf.JOB_WATCH_S, 1.0))
        except Exception:  # noqa: BLE001
            logger.exception("could not queue %s", WATCH_TASK)
