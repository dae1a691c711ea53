"""The audit trail's context for Celery tasks: what a beat job or worker changes names the task.

``task_prerun`` opens a ``pghistory.context(job=<task name>, task_id=<id>)`` for the task's thread and
``task_postrun`` closes it, so escalations, silences' expiry and other background writes are recorded
as ``job incidents.escalate`` rather than "system". A task run inside a request (eager, tests) adds
``job`` to the request's context instead (pghistory nests contexts).
"""

from __future__ import annotations

import threading

import pghistory

_open = threading.local()


def _on_prerun(task_id=None, task=None, **kwargs):
    stack = getattr(_open, "stack", None)
    if stack is None:
        stack = _open.stack = []
    context = pghistory.context(job=getattr(task, "name", str(task)), task_id=str(task_id or ""))
    context.__enter__()
    stack.append(context)


def _on_postrun(task_id=None, **kwargs):
    stack = getattr(_open, "stack", None)
    if not stack:
        return
    stack.pop().__exit__(None, None, None)
    # pghistory sets its context with set_config(…, true): it lasts until the transaction ends. A task
    # run inside a longer transaction (eager, tests) must not lend its name to what follows; an outer
    # context still open sets its own again before its next statement.
    from django.db import connection

    if connection.in_atomic_block and not connection.needs_rollback:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT set_config('pghistory.context_id', '', true),"
                " set_config('pghistory.context_metadata', '', true)"
            )


def connect_signals() -> None:
    """Connect to Celery's task signals (idempotent: fixed dispatch uids)."""
    from celery import signals

    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid="audit_job_prerun")
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid="audit_job_postrun")
