"""The task base every app's Celery tasks share: sent once the data they need is
committed, retried with backoff for transient errors only, and a final failure recorded
on the row; plus the periodic sweeper task."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from forensics.errors import MediaRejected

logger = logging.getLogger(__name__)

# Transient: storage hiccups and database disconnects. Bad input never raises (the
# services record it as a failure), so it is never retried.
TRANSIENT_ERRORS = (OSError, DatabaseError)
RETRY_OPTIONS: dict[str, Any] = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


def enqueue_on_commit(task: Any, object_id: int) -> None:
    """Send ``task(object_id)`` after the surrounding transaction commits.

    A broker that is down does not fail the request: the row stays pending and the
    sweeper (``core.sweeper``, every few minutes) sends it again."""

    def send() -> None:
        try:
            task.delay(object_id)
        except Exception:
            logger.exception("could not enqueue %s(%s); it stays pending", task.name, object_id)

    transaction.on_commit(send)


class RecordsFinalFailure(Task):
    """A task on one row (its id the first argument) that records its final failure on
    that row, so nothing stays ``processing`` forever. Subclasses say how."""

    #: What the row's failure reason says; ``{exc}`` is the last error.
    failure_reason = "Processing failed after retries: {exc}"

    def mark_failed(self, object_id: int, reason: str) -> None:
        """Record on the row that its processing failed, and why."""
        raise NotImplementedError

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        if args:
            self.mark_failed(args[0], self.failure_reason.format(exc=failure_words(exc, task_id)))


def failure_words(exc: BaseException, task_id: str) -> str:
    """What a user is told of an error: our own refusals in their words, anything else
    (a library's internals, a traceback's text) as a reference into the logs."""
    if isinstance(exc, MediaRejected | ValidationError):
        return "; ".join(getattr(exc, "messages", None) or [str(exc)])
    if isinstance(exc, OSError):  # storage: "No space left on device" is for people too
        return exc.strerror or str(exc)
    return f"an unexpected error (reference {task_id[:8]}, in the worker's log)"


@shared_task(name="core.stuck_work_requeue")
def stuck_work_requeue_task() -> dict[str, int]:
    """The periodic sweeper (Celery beat): re-enqueue work stuck in pending/processing."""
    from core.sweeper import stuck_work_requeue

    return stuck_work_requeue()
